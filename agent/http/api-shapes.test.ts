/**
 * Nomad API compatibility: each endpoint's response from a real dev agent has every field of
 * the fixture written from Nomad's API docs (testdata/nomad-shapes/), with the same JSON type.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { call } from './testing/api-harness.js';
import { registerHcl, runningAllocs, sleeperHcl, startDevAgent, type DevAgent } from './testing/dev-agent.js';
import { loadShape, shapeMismatches } from './testing/shape-check.js';

let dev: DevAgent;
const ids: Record<string, string> = {};

before(async () => {
  dev = await startDevAgent();
  const { reg } = await registerHcl(dev.url, sleeperHcl('example', 1, { owner: 'shapes' }));
  const [alloc] = await runningAllocs(dev.url, 'example', 1);
  ids[':job'] = 'example';
  ids[':alloc'] = alloc!.ID;
  ids[':eval'] = reg.EvalID;
  ids[':node'] = alloc!.NodeID;
});

after(async () => {
  await dev.stop();
});

const fixtures = readdirSync(fileURLToPath(new URL('./testdata/nomad-shapes/', import.meta.url)))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''));

void test('the shape checker catches a missing field, a wrong type and a bad element', () => {
  const shape = { A: 'x', B: 1, C: null, D: [{ E: true }], M: { '*': { N: 1 } } };
  assert.deepEqual(shapeMismatches(shape, { A: 'y', B: 2, C: 'anything', D: [{ E: false }], M: { g: { N: 3 } } }), []);
  assert.deepEqual(shapeMismatches(shape, { A: 1, B: 2, D: [{ E: 'no' }], M: { g: {} } }), [
    '$.A: expected string, got number',
    '$.C: missing',
    '$.D[0].E: expected boolean, got string',
    '$.M.g.N: missing',
  ]);
});

for (const name of fixtures) {
  void test(`Nomad API shape: ${name}`, async () => {
    const fx = loadShape(name);
    const [method, rawPath] = fx.request.split(' ') as [string, string];
    const path = rawPath.replace(/:\w+/g, (p) => encodeURIComponent(ids[p] ?? p));
    let r;
    if (method === 'POST' && path === '/v1/jobs') {
      // Register the job again as it stands: the answer is a JobRegisterResponse.
      const job = (await call(dev.url, 'GET', '/v1/job/example')).json as unknown;
      r = await call(dev.url, 'POST', path, { Job: job });
    } else {
      r = await call(dev.url, method, path);
    }
    assert.equal(r.status, 200, `${fx.request}: ${r.text}`);
    if (Array.isArray(fx.shape)) assert.ok(Array.isArray(r.json) && r.json.length > 0, `${fx.request} returned no elements to check`);
    assert.deepEqual(shapeMismatches(fx.shape, r.json), [], `${fx.request} differs from ${fx.source}`);
  });
}
