// Makes opaque-login.json: an OPAQUE registration made once, with @serenity-kit/opaque's DEFAULT key
// stretching (no keyStretching argument), so the test proves Coffer's pinned parameters are the ones
// every existing record was made with. Run from packages/vault-protocol after `pnpm build`:
//   node test/vectors/make-opaque-login.mjs > test/vectors/opaque-login.json
// Do not regenerate to make a failing test pass: a failure means logins of existing vaults would break.
import { createRequire } from 'node:module';
import * as opaque from '@serenity-kit/opaque';
import { sealEscrow } from '../../dist/escrow.js';

await opaque.ready;
const password = 'correct horse battery staple';
const account = 'vector-alice';
const keyId = '00112233aabbccdd';
const backupKey = Buffer.alloc(32, 0x42);
const serverSetup = opaque.server.createSetup();
const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
const { registrationResponse } = opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: account, registrationRequest });
const { registrationRecord, exportKey } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse, password });
const version = createRequire(import.meta.url)('@serenity-kit/opaque/package.json').version;
const vector = {
  made: new Date().toISOString().slice(0, 10),
  library: `@serenity-kit/opaque ${version}`,
  keyStretching: 'library default (no keyStretching argument)',
  password,
  account,
  keyId,
  backupKey: backupKey.toString('hex'),
  serverSetup,
  registrationRecord,
  exportKey,
  escrow: sealEscrow(new Uint8Array(Buffer.from(exportKey, 'base64url')), account, keyId, backupKey),
};
process.stdout.write(`${JSON.stringify(vector, null, 2)}\n`);
