// The fake Drive's routes and parameters, checked against the discovery-generated @googleapis/drive
// code this backend calls: if Google's generated client changes a route or drops a parameter the
// fake serves, this fails, so the fake cannot quietly drift from Drive.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FAKE_DRIVE_API, FakeDrive, STANDARD_PARAMS } from '@coffer/storage-testkit';
import { describe, expect, it } from 'vitest';

const generated = dirname(createRequire(import.meta.url).resolve('@googleapis/drive'));
const types = readFileSync(join(generated, 'v3.d.ts'), 'utf8');
const code = readFileSync(join(generated, 'v3.js'), 'utf8');

/** The property names of one generated interface (its own, not those it extends). */
function interfaceProps(name: string): string[] {
  const start = types.indexOf(`interface ${name} `);
  expect(start, `${name} in @googleapis/drive`).toBeGreaterThan(-1);
  const body = types.slice(types.indexOf('{', start) + 1, types.indexOf('\n    }', start));
  return [...body.matchAll(/^\s{8}'?([$\w.]+)'?\??:/gm)].map((m) => m[1]!);
}

describe('the fake Drive matches the generated Drive v3 client', () => {
  it('StandardParameters are the ones the fake accepts on every route', () => {
    expect(interfaceProps('StandardParameters').filter((p) => p !== 'auth').sort()).toEqual([...STANDARD_PARAMS].sort());
  });

  for (const route of FAKE_DRIVE_API) {
    it(`${route.method}: ${route.http} ${route.path} with ${route.query.join(', ')}`, () => {
      const props = new Set([...interfaceProps(route.params), ...STANDARD_PARAMS]);
      for (const param of route.query) expect(props.has(param), `${route.method} takes "${param}"`).toBe(true);
      // The generated request: its URL and HTTP method, in that order, in one method's body.
      const call = new RegExp(`url: \\(rootUrl \\+ '${route.path.replace(/[{}]/g, '\\$&')}'\\)[^]{0,120}?method: '${route.http}'`);
      expect(code, `${route.method} is ${route.http} ${route.path}`).toMatch(call);
      if ('upload' in route) expect(code).toContain(`mediaUrl: (rootUrl + '${route.upload}')`);
    });
  }

  it('answers 400 to a parameter Drive does not define for the route', async () => {
    const fake = new FakeDrive();
    const request = (query: string) => new Request(`https://www.googleapis.com/drive/v3/files?${query}`, { headers: { authorization: 'Bearer fake-access-token' } });
    expect((await fake.handle(request('pageSize=10&fields=files(id)'))).status).toBe(200);
    const bad = await fake.handle(request('pageSize=10&maxResults=10'));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { errors: [{ reason: 'invalidParameter' }] } });
  });
});
