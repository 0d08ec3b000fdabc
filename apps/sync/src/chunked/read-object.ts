import type { Destination } from '../destinations.js';

/** A small object (a chunk, a reference list) read whole: each is bounded by the chunker's maximum. */
export async function readObject(destination: Destination, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of await destination.backend.get(key)) parts.push(part as Buffer);
  return Buffer.concat(parts);
}
