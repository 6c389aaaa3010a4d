/**
 * Fuzzing the HTTP API with fast-check (fixed seed, bounded runs) against a real server in
 * this process (Raft + FSM on LMDB, scheduler, the HTTP listener on loopback): odd paths,
 * query strings and bodies on every route. For input a user sends, the answer is 2xx or
 * 4xx, never 5xx; the agent keeps answering; and a job stored before is untouched.
 *
 * Left out: routes that change cluster membership or dial other hosts (agent join and
 * force-leave, raft peer removal, leadership transfer) and the event stream, which stays
 * open by design.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { testGroup, testJob } from '../../scheduler/testing/fixtures.js';
import { startTestServer, type TestServer } from '../server/testing/test-server.js';
import { mutateAt } from '../../structs/testing/mutate-at.js';

const SEED = 20261122;
const HB = { minHeartbeatTtlMs: 5_000, heartbeatGraceMs: 5_000, maxHeartbeatsPerSecond: 50, failoverTtlMs: 10_000 };

const routes: ReadonlyArray<readonly [string, string]> = [
  ['GET', '/v1/jobs'], ['POST', '/v1/jobs'], ['POST', '/v1/jobs/parse'], ['GET', '/v1/job/:id'], ['POST', '/v1/job/:id'], ['DELETE', '/v1/job/:id'],
  ['GET', '/v1/job/:id/allocations'], ['GET', '/v1/job/:id/evaluations'], ['GET', '/v1/job/:id/versions'], ['GET', '/v1/job/:id/summary'],
  ['GET', '/v1/job/:id/deployment'], ['GET', '/v1/job/:id/deployments'], ['GET', '/v1/job/:id/scale'], ['POST', '/v1/job/:id/scale'],
  ['POST', '/v1/job/:id/evaluate'], ['POST', '/v1/job/:id/plan'], ['POST', '/v1/job/:id/revert'],
  ['GET', '/v1/allocations'], ['GET', '/v1/allocation/:id'], ['POST', '/v1/allocation/:id/stop'],
  ['GET', '/v1/evaluations'], ['GET', '/v1/evaluations/count'], ['GET', '/v1/evaluation/:id'], ['GET', '/v1/evaluation/:id/allocations'],
  ['GET', '/v1/deployments'], ['GET', '/v1/deployment/:id'],
  ['GET', '/v1/nodes'], ['GET', '/v1/node/:id'], ['GET', '/v1/node/:id/allocations'], ['POST', '/v1/node/:id/drain'], ['POST', '/v1/node/:id/eligibility'],
  ['GET', '/v1/client/fs/ls/:id'], ['GET', '/v1/client/fs/stat/:id'], ['GET', '/v1/client/fs/cat/:id'], ['GET', '/v1/client/fs/logs/:id'],
  ['GET', '/v1/client/allocation/:id/stats'], ['POST', '/v1/client/allocation/:id/restart'], ['POST', '/v1/client/allocation/:id/signal'],
  ['GET', '/v1/agent/self'], ['GET', '/v1/agent/members'], ['GET', '/v1/agent/health'], ['GET', '/v1/agent/servers'],
  ['GET', '/v1/status/leader'], ['GET', '/v1/status/peers'], ['GET', '/v1/operator/raft/configuration'],
  ['GET', '/v1/operator/scheduler/configuration'], ['PUT', '/v1/operator/scheduler/configuration'], ['PUT', '/v1/system/gc'],
  ['GET', '/v1/namespaces'], ['GET', '/v1/namespace/:id'], ['POST', '/v1/namespace/:id'], ['DELETE', '/v1/namespace/:id'],
  ['GET', '/v1/acl/policies'], ['GET', '/v1/acl/policy/:id'], ['POST', '/v1/acl/policy/:id'], ['DELETE', '/v1/acl/policy/:id'],
  ['GET', '/v1/acl/tokens'], ['GET', '/v1/acl/token/self'], ['GET', '/v1/acl/token/:id'], ['POST', '/v1/acl/token'],
  ['GET', '/v1/nope'], ['GET', '/v2/jobs'], ['GET', '/'],
];

let ts: TestServer;
let sentinel: unknown;

async function getJson(path: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${ts.httpUrl}${path}`);
  const text = await res.text();
  return { status: res.status, json: res.status === 200 ? (JSON.parse(text) as unknown) : text };
}

/** What must not change: the job as the API shows it, minus fields that move on their own. */
function stable(job: unknown): unknown {
  const { Status: _s, StatusDescription: _d, ModifyIndex: _m, SubmitTime: _t, ...rest } = job as Record<string, unknown>;
  return rest;
}

before(async () => {
  ts = await startTestServer({ heartbeat: HB });
  const res = await fetch(`${ts.httpUrl}/v1/jobs`, { method: 'POST', body: JSON.stringify({ Job: testJob({ ID: 'sentinel', Name: 'sentinel', TaskGroups: [testGroup({ Count: 2 })] }) }) });
  assert.equal(res.status, 200, await res.text());
  sentinel = stable((await getJson('/v1/job/sentinel')).json);
});
after(async () => {
  await ts.stop();
});

interface FuzzRequest {
  method: string;
  path: string;
  body: string | Buffer | undefined;
}

/** Sends a request as raw as Node allows; resolves with the status (and, for 5xx, the
 *  message), or the error code. */
function send(r: FuzzRequest): Promise<{ status: number; text: string } | { error: string }> {
  const url = new URL(ts.httpUrl);
  return new Promise((resolve) => {
    let req;
    try {
      req = request({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers: r.body === undefined ? {} : { 'content-type': 'application/json' } });
    } catch (e) {
      // A path Node itself refuses to send (control characters): nothing to test.
      resolve({ error: `unsendable: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
      return;
    }
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ error: 'no answer within 10 s' });
    }, 10_000);
    req.on('response', (res) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      if (status < 500) {
        // The status is the verdict; the body may be a stream (logs), so do not wait for it.
        resolve({ status, text: '' });
        res.destroy();
        return;
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status, text }));
      res.on('error', () => resolve({ status, text }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ error: e.code ?? e.message });
    });
    req.end(r.body);
  });
}

/**
 * 5xx answers this suite found in code outside agent/http's fuzzing, each matched narrowly
 * by its message and reported (with the seed) for a fix; everything else fails the test.
 * Remove an entry once its bug is fixed.
 */
/** 5xx answers the suite tolerates while a fix is pending (each names its cause). None now. */
const knownIssues: ReadonlyArray<{ what: string; matches: (r: FuzzRequest, text: string) => boolean }> = [];

const segment = fc.oneof(
  fc.constantFrom('web', 'default', 'fuzz', '', '..', '.', '%2F', '%', '%zz', '%00', 'a%2Fb', '*', 'x'.repeat(2000), '00000000-0000-0000-0000-000000000000', '🙂', 'anonymous', 'self'),
  fc.string({ maxLength: 16 }).map(encodeURIComponent),
  fc.string({ maxLength: 8 }),
);

const queryKeys = ['namespace', 'region', 'prefix', 'stale', 'wait', 'filter', 'per_page', 'next_token', 'reverse', 'diff', 'purge', 'global', 'task', 'type', 'follow', 'offset', 'origin', 'plain', 'path', 'resources', 'node_id', 'all', 'json', 'enable', 'signal', 'policy_override', 'Namespace'];
const queryValue = fc.oneof(fc.constantFrom('', 'true', 'false', '-1', '0', '1e9', '99999999999999999999', 'NaN', '5m', '-5m', '*', 'default', 'ID == "x"', 'Status matches "("', '"unterminated', 'a and or b'), fc.string({ maxLength: 12 }));
const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...queryKeys), fc.string({ maxLength: 6 })), queryValue), { maxLength: 4 });
/** A blocking query, kept short so the test does not wait the default five minutes. */
const blocking = fc.option(fc.tuple(fc.oneof(fc.nat(), fc.constantFrom(-1, 1e21)), fc.constantFrom('1ms', '30ms')), { nil: undefined });

const odd = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, -1, 0, 1e308, -1e308, '', [], {}, true, 'default', '*'));
const jobBody = fc
  .tuple(fc.nat({ max: 5 }), fc.array(fc.tuple(fc.array(fc.nat(), { maxLength: 6 }), odd), { maxLength: 3 }))
  .map(([n, muts]) => {
    let body: unknown = { Job: testJob({ ID: `fuzz-${n}`, Name: `fuzz-${n}` }), Diff: true };
    for (const [path, v] of muts) body = mutateAt(body, path, v);
    return JSON.stringify(body);
  });
const body = fc.oneof(
  { weight: 3, arbitrary: jobBody },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constantFrom('null', '[', '{"Job":', '{"Job":{"ID":"x","TaskGroups":[{"Tasks":[{}]}]}}', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}') },
);

const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.constantFrom(...routes), fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') }), segment, query, blocking, fc.option(body, { nil: undefined }))
  .map(([[method, template], otherMethod, id, q, block, b]) => {
    const params = new URLSearchParams();
    for (const [k, v] of q) if (k !== 'index' && !(block !== undefined && k === 'wait')) params.append(k, v);
    if (block !== undefined) {
      params.set('index', String(block[0]));
      params.set('wait', block[1]);
    }
    const qs = params.toString();
    const m = otherMethod ?? method;
    return { method: m, path: `${template.replace(':id', id)}${qs === '' ? '' : `?${qs}`}`, body: m === 'GET' || m === 'HEAD' ? undefined : b };
  })
  // The stored job is the one thing requests must not legitimately change.
  .filter((r) => !r.path.includes('sentinel') && !(r.body?.toString('utf8').includes('sentinel') ?? false));

void test('HTTP API: odd paths, queries and bodies get 2xx or 4xx, never 5xx, and stored jobs stay intact', async (t) => {
  const unsendable: string[] = [];
  const known = new Map<string, string>();
  await fc.assert(
    fc.asyncProperty(fuzzRequest, async (r) => {
      const res = await send(r);
      if ('error' in res && res.error.startsWith('unsendable')) {
        unsendable.push(r.path);
        return;
      }
      const shown = `${r.method} ${r.path.slice(0, 300)} ${r.body === undefined ? '' : r.body.toString('utf8').slice(0, 300)}`;
      assert.ok('status' in res, `${shown}: ${'error' in res ? res.error : ''}`);
      const issue = res.status >= 500 ? knownIssues.find((k) => k.matches(r, res.text)) : undefined;
      if (issue !== undefined) {
        if (!known.has(issue.what)) known.set(issue.what, shown);
        return;
      }
      assert.ok(res.status >= 200 && res.status < 500, `${shown}: status ${res.status} ${res.text}`);
    }),
    { seed: SEED, numRuns: 500 },
  );
  assert.ok(unsendable.length < 100, 'most generated requests were sent');
  for (const [what, example] of known) t.diagnostic(`known issue: ${what}; e.g. ${example.slice(0, 200)}`);

  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype pollution');
  assert.equal((await getJson('/v1/agent/health')).status, 200, 'the agent still answers');
  const after = await getJson('/v1/job/sentinel');
  assert.equal(after.status, 200);
  assert.deepEqual(stable(after.json), sentinel, 'the job stored before the fuzzing is unchanged');
  assert.equal(ts.server.state.jobById('default', 'sentinel')?.Stop, false);
});

void test('HTTP API: a body over the size limit is refused with 413, and the agent keeps serving', async () => {
  const big = Buffer.alloc(9 * 1024 * 1024, 0x20);
  const res = await send({ method: 'POST', path: '/v1/jobs', body: big });
  assert.ok('status' in res, JSON.stringify(res));
  assert.equal(res.status, 413);
  assert.equal((await getJson('/v1/agent/health')).status, 200);
});
