import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { YurtError } from '../structs/errors.js';
import { ApiClient } from './client.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let server: Server;
let address: string;
let handler: Handler = (_req, res) => res.end('null');
const seen: Array<{ method: string; url: string; token: string | undefined; body: string }> = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', token: req.headers['x-nomad-token'] as string | undefined, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

void test('GET sends the token, region and namespace, and returns data with the index', async () => {
  seen.length = 0;
  handler = (_req, res) => {
    res.writeHead(200, { 'X-Nomad-Index': '12', 'X-Nomad-KnownLeader': 'true', 'X-Nomad-LastContact': '0' });
    res.end(JSON.stringify([{ ID: 'example' }]));
  };
  const client = new ApiClient({ address, token: 'secret', region: 'global', namespace: 'prod' });
  const r = await client.jobs.list({ prefix: 'ex', index: 11, waitMs: 5000 });
  assert.deepEqual(r.data, [{ ID: 'example' }]);
  assert.equal(r.index, 12);
  assert.equal(r.knownLeader, true);
  assert.deepEqual(seen, [{ method: 'GET', url: '/v1/jobs?region=global&namespace=prod&index=11&wait=5s&prefix=ex', token: 'secret', body: '' }]);
});

void test('register POSTs the job in a {"Job": ...} envelope; deregister passes purge', async () => {
  seen.length = 0;
  handler = (_req, res) => res.end(JSON.stringify({ EvalID: 'e1', EvalCreateIndex: 3, JobModifyIndex: 3, Warnings: '', Index: 3 }));
  const client = new ApiClient({ address });
  const job = { ID: 'example' } as unknown as Parameters<typeof client.jobs.register>[0];
  const r = await client.jobs.register(job);
  assert.equal(r.data.EvalID, 'e1');
  await client.jobs.deregister('my job', { purge: true });
  assert.deepEqual(
    seen.map((s) => [s.method, s.url, s.body]),
    [
      ['POST', '/v1/jobs', '{"Job":{"ID":"example"}}'],
      ['DELETE', '/v1/job/my%20job?purge=true', ''],
    ],
  );
});

void test('errors carry the X-Yurt-Error-Code and the plain-text message', async () => {
  handler = (_req, res) => {
    res.writeHead(404, { 'X-Yurt-Error-Code': 'not_found', 'Content-Type': 'text/plain' });
    res.end('job not found');
  };
  const client = new ApiClient({ address });
  await assert.rejects(client.jobs.info('nope'), (e: unknown) => e instanceof YurtError && e.code === 'not_found' && e.message === 'job not found');
});

void test('without the header the code comes from the status', async () => {
  handler = (_req, res) => {
    res.writeHead(503);
    res.end('no cluster leader');
  };
  const client = new ApiClient({ address });
  await assert.rejects(client.status.leader(), (e: unknown) => e instanceof YurtError && e.code === 'unavailable' && e.message === 'no cluster leader');
  handler = (_req, res) => {
    res.writeHead(500);
    res.end();
  };
  await assert.rejects(client.nodes.list(), (e: unknown) => e instanceof YurtError && e.code === 'internal' && e.message === 'Unexpected response code: 500');
});

void test('a 2xx body that is not JSON is a clear internal error', async () => {
  handler = (_req, res) => res.end('<html>');
  await assert.rejects(new ApiClient({ address }).jobs.list(), (e: unknown) => e instanceof YurtError && /^Error decoding response from GET http:\/\/127\.0\.0\.1:\d+\/v1\/jobs: /.test(e.message));
});

void test('connection refused reads like the Go client', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const client = new ApiClient({ address: `http://127.0.0.1:${port}` });
  await assert.rejects(
    client.jobs.list(),
    (e: unknown) =>
      e instanceof YurtError &&
      e.code === 'unavailable' &&
      e.message === `Get "http://127.0.0.1:${port}/v1/jobs": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  );
});

void test('logs stream raw bytes with the plain/follow/origin/offset parameters', async () => {
  seen.length = 0;
  handler = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('one\n');
    setTimeout(() => res.end('two\n'), 20);
  };
  const client = new ApiClient({ address });
  let text = '';
  for await (const c of client.logs.read('a1', { task: 'redis', type: 'stderr', follow: true, origin: 'end', offset: 100 })) {
    text += new TextDecoder().decode(c);
  }
  assert.equal(text, 'one\ntwo\n');
  assert.equal(seen[0]?.url, '/v1/client/fs/logs/a1?task=redis&type=stderr&plain=true&origin=end&offset=100&follow=true');
});

void test('an aborted blocking query rejects with AbortError, not a transport error', async () => {
  handler = () => undefined; // never answers
  const ac = new AbortController();
  const p = new ApiClient({ address }).evaluations.info('e1', { index: 5, waitMs: 60_000, signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(p, (e: unknown) => e instanceof Error && e.name === 'AbortError');
});

void test('plan, versions, revert, evaluate, alloc stop, drain, eligibility, scheduler config and gc use Nomad paths and bodies', async () => {
  seen.length = 0;
  handler = (_req, res) => res.end('{}');
  const client = new ApiClient({ address });
  const job = { ID: 'web' } as unknown as Parameters<typeof client.jobs.plan>[0];
  await client.jobs.plan(job, true);
  await client.jobs.versions('web', true);
  await client.jobs.revert('web', 2, { enforcePriorVersion: 3 });
  await client.jobs.evaluate('web', true);
  await client.allocations.stop('a1');
  await client.nodes.updateDrain('n1', { Deadline: 3.6e12, IgnoreSystemJobs: true }, false);
  await client.nodes.updateDrain('n1', null, true);
  await client.nodes.updateEligibility('n1', false);
  await client.operator.raftConfiguration();
  await client.operator.schedulerConfiguration();
  const cfg = { SchedulerAlgorithm: 'spread' } as unknown as Parameters<typeof client.operator.updateSchedulerConfiguration>[0];
  await client.operator.updateSchedulerConfiguration(cfg, { casIndex: 9 });
  await client.system.garbageCollect();
  // The previous test's abandoned blocking query may be recorded late; it is not part of this one.
  assert.deepEqual(
    seen.filter((s) => !s.url.startsWith('/v1/evaluation/')).map((s) => [s.method, s.url, s.body]),
    [
      ['POST', '/v1/job/web/plan', '{"Job":{"ID":"web"},"Diff":true}'],
      ['GET', '/v1/job/web/versions?diffs=true', ''],
      ['POST', '/v1/job/web/revert', '{"JobID":"web","JobVersion":2,"EnforcePriorVersion":3}'],
      ['POST', '/v1/job/web/evaluate', '{"JobID":"web","EvalOptions":{"ForceReschedule":true}}'],
      ['POST', '/v1/allocation/a1/stop', ''],
      ['POST', '/v1/node/n1/drain', '{"NodeID":"n1","DrainSpec":{"Deadline":3600000000000,"IgnoreSystemJobs":true},"MarkEligible":false}'],
      ['POST', '/v1/node/n1/drain', '{"NodeID":"n1","DrainSpec":null,"MarkEligible":true}'],
      ['POST', '/v1/node/n1/eligibility', '{"NodeID":"n1","Eligibility":"ineligible"}'],
      ['GET', '/v1/operator/raft/configuration', ''],
      ['GET', '/v1/operator/scheduler/configuration', ''],
      ['PUT', '/v1/operator/scheduler/configuration?cas=9', '{"SchedulerAlgorithm":"spread"}'],
      ['PUT', '/v1/system/gc', ''],
    ],
  );
});
