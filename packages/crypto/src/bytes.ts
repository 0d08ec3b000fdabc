import { timingSafeEqual } from 'node:crypto';
import { invalidArgument } from './errors.js';

/** Boundary check with a named label, after noble's `abytes`. */
export function abytes(label: string, value: unknown, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw invalidArgument(`"${label}" expected Uint8Array, got ${value === null ? 'null' : typeof value}`);
  }
  if (length !== undefined && value.length !== length) {
    throw invalidArgument(`"${label}" expected ${length} bytes, got ${value.length}`);
  }
  return value;
}

export const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** Constant-time comparison: MACs must never be compared with early exit. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** age's base64: standard alphabet, no padding. */
export function b64encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64').replace(/=+$/, '');
}

/** Strict decode: rejects padding and non-canonical encodings (age spec), returning null. */
export function b64decode(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64');
  return b64encode(bytes) === text ? new Uint8Array(bytes) : null;
}

/** Best effort: JS cannot guarantee the runtime kept no copy (SPEC §8). */
export function wipe(...buffers: Uint8Array[]): void {
  for (const b of buffers) b.fill(0);
}
