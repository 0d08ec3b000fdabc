import * as opaque from '@serenity-kit/opaque';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { isRegistrationRecord, REGISTRATION_RECORD_BYTES } from './registration-record.js';

describe('isRegistrationRecord', () => {
  let real: string;
  beforeAll(async () => {
    await opaque.ready;
    const serverSetup = opaque.server.createSetup();
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password: 'pw' });
    const { registrationResponse } = opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: 'a', registrationRequest });
    real = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse, password: 'pw' }).registrationRecord;
  });

  it('accepts what the library registers (192 bytes)', () => {
    expect(Buffer.from(real, 'base64url').length).toBe(REGISTRATION_RECORD_BYTES);
    expect(isRegistrationRecord(real)).toBe(true);
  });

  it('rejects garbage, wrong lengths, the identity and non-canonical points', () => {
    const bytes = Buffer.from(real, 'base64url');
    expect(isRegistrationRecord('AAAA')).toBe(false);
    expect(isRegistrationRecord(bytes.subarray(0, 191).toString('base64url'))).toBe(false);
    expect(isRegistrationRecord(Buffer.concat([bytes, Buffer.from([0])]).toString('base64url'))).toBe(false);
    expect(isRegistrationRecord(Buffer.alloc(192).toString('base64url'))).toBe(false); // identity point
    expect(isRegistrationRecord(Buffer.alloc(192, 0xff).toString('base64url'))).toBe(false); // not a field element
    const notAPoint = Buffer.from(bytes);
    notAPoint.fill(0x11, 0, 32); // an encoding that does not decode as ristretto255
    expect(() => ristretto255.Point.fromBytes(notAPoint.subarray(0, 32))).toThrow();
    expect(isRegistrationRecord(notAPoint.toString('base64url'))).toBe(false);
  });
});
