import { readFileSync } from 'node:fs';
import * as opaque from '@serenity-kit/opaque';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEY_STRETCHING } from '../src/index.js';

const vector = JSON.parse(readFileSync(new URL('./vectors/opaque-login.json', import.meta.url), 'utf8')) as Record<string, string>;

/** One OPAQUE login against the stored record; returns the client's result (undefined: refused). */
function login(password: string, keyStretching: Parameters<typeof opaque.client.finishLogin>[0]['keyStretching']) {
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
  const { serverLoginState, loginResponse } = opaque.server.startLogin({
    serverSetup: vector.serverSetup!,
    registrationRecord: vector.registrationRecord!,
    startLoginRequest,
    userIdentifier: vector.account!,
  });
  const finished = opaque.client.finishLogin({ clientLoginState, loginResponse, password, keyStretching });
  if (finished) opaque.server.finishLogin({ serverLoginState, finishLoginRequest: finished.finishLoginRequest });
  return finished;
}

describe('pinned key stretching (fixed vector from 2026-12-04)', () => {
  beforeAll(() => opaque.ready);

  it('are the documented Argon2id parameters', () => {
    expect(KEY_STRETCHING).toEqual({ 'argon2id-custom': { iterations: 3, memory: 65_536, parallelism: 4 } });
  });

  it('a record registered with the library default logs in with its password and the pinned parameters', () => {
    const finished = login(vector.password!, KEY_STRETCHING);
    expect(finished).toBeDefined();
    expect(finished!.exportKey).toBe(vector.exportKey);
  });

  it('fails with a wrong password, and with other stretching parameters', () => {
    expect(login(`${vector.password}!`, KEY_STRETCHING)).toBeUndefined();
    expect(login(vector.password!, { 'argon2id-custom': { iterations: 2, memory: 65_536, parallelism: 4 } })).toBeUndefined();
    expect(login(vector.password!, { 'argon2id-custom': { iterations: 3, memory: 32_768, parallelism: 4 } })).toBeUndefined();
  });
});
