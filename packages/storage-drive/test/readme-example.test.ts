// The README's "Testing your own code against Coffer's storage" example, run as written.
import { MemoryBackend, withRetry } from '@coffer/storage';
import { chunks, FakeDrive, readAll, runStorageConformance } from '@coffer/storage-testkit';
import { auth } from '@googleapis/drive';
import { setupServer } from 'msw/node';
import { afterAll, expect, it } from 'vitest';
import { DriveBackend } from '../src/index.js';

const storage = new MemoryBackend(); // anything that takes a StorageBackend

const fake = new FakeDrive(); // in-memory Drive v3 subset, with fault injection
const server = setupServer(...fake.handlers());
server.listen();
afterAll(() => server.close());
const client = new auth.OAuth2({ clientId: 'x', clientSecret: 'y' });
client.setCredentials({ refresh_token: 'fake-refresh-token' });
// talks to the fake, not Google; withRetry is the one retry layer (the SDK's own retries are off)
const drive = withRetry(new DriveBackend({ auth: client }));
fake.inject({ match: ({ method }) => method === 'PUT', times: 1, status: 403, reason: 'rateLimitExceeded' });

runStorageConformance('my backend', { create: async () => new MemoryBackend(), boundedMemory: false, largeObjectMiB: 8 });

it('the swapped-in backends work like the real ones', async () => {
  await storage.put('a', chunks(Buffer.from('in memory')));
  expect((await readAll(await storage.get('a'))).toString()).toBe('in memory');
  await drive.put('b', chunks(Buffer.from('in the fake Drive, after a rate limit')));
  expect((await readAll(await drive.get('b'))).toString()).toBe('in the fake Drive, after a rate limit');
  expect(fake.faults[0]!.times).toBe(0); // the injected fault was hit and ridden out
});
