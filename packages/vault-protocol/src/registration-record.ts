import { ristretto255 } from '@noble/curves/ed25519.js';

/** RFC 9807 §5.1.2 with ristretto255/SHA-512: client public key (Npk) ‖ masking key (Nh) ‖ envelope (Nn + Nm). */
export const REGISTRATION_RECORD_BYTES = 32 + 64 + (32 + 64);

/**
 * True when `record` (base64url, as @serenity-kit/opaque writes it) has the shape of an RFC 9807
 * registration record: its length, and a client public key that decodes as a canonical,
 * non-identity ristretto255 point. The library exposes no parser for records, so the shape is
 * checked here; the remaining bytes (masking key, envelope) are uniform by construction.
 */
export function isRegistrationRecord(record: string): boolean {
  const bytes = Buffer.from(record, 'base64url');
  if (bytes.length !== REGISTRATION_RECORD_BYTES || bytes.toString('base64url') !== record.replace(/=+$/, '')) return false;
  try {
    const point = ristretto255.Point.fromBytes(bytes.subarray(0, 32));
    return !point.equals(ristretto255.Point.ZERO);
  } catch {
    return false;
  }
}
