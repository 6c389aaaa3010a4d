import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGroup, testJob, testNode } from '../../scheduler/testing/fixtures.js';
import { FakeClient, waitFor } from '../server/testing/test-server.js';
import type { EventBatch, StreamEvent } from '../server/events/event-types.js';
import { ApiClient } from '../../api/client.js';
import { call, NdjsonStream, startApiHarness } from './testing/api-harness.js';

function batches(lines: unknown[]): EventBatch[] {
  return lines.filter((l): l is EventBatch => typeof l === 'object' && l !== null && 'Index' in l);
}

function events(lines: unknown[]): StreamEvent[] {
  return batches(lines).flatMap((b) => b.Events);
}

void test('event stream: job, eval, alloc and node events in index order, filtered by topic, resumable from an index', async () => {
  const h = await startApiHarness({ eventHeartbeatMs: 60_000 });
  const all = await NdjsonStream.open(`${h.url}/v1/event/stream`);
  const jobsOnly = await NdjsonStream.open(`${h.url}/v1/event/stream?topic=Job:*`);
  const client = new FakeClient(testNode('node-a'), h.ts.rpcAddr);
  try {
    assert.equal(all.status, 200);
    await client.start();
    client.autoReport(10);
    const reg = await call(h.url, 'POST', '/v1/jobs', { Job: testJob({ ID: 'web', Name: 'web', TaskGroups: [testGroup({ Count: 2 })] }) });
    assert.equal(reg.status, 200, reg.text);
    await all.waitUntil(
      (l) => events(l).filter((e) => e.Topic === 'Allocation' && (e.Payload as { Allocation: { ClientStatus: string } }).Allocation.ClientStatus === 'running').length >= 2,
      10_000,
      'both allocations running',
    );
    const ev = events(all.lines);
    const types = new Set(ev.map((e) => `${e.Topic}/${e.Type}`));
    for (const t of ['Node/NodeRegistration', 'Job/JobRegistered', 'Evaluation/EvaluationUpdated', 'Allocation/PlanResult', 'Allocation/AllocationUpdated']) {
      assert.ok(types.has(t), `missing ${t} in ${[...types].join(', ')}`);
    }
    const idx = batches(all.lines).map((b) => b.Index);
    assert.deepEqual(idx, [...idx].sort((a, b) => a - b), 'batches arrive in index order');
    assert.equal(new Set(idx).size, idx.length, 'one line per index');
    for (const b of batches(all.lines)) for (const e of b.Events) assert.equal(e.Index, b.Index);

    const registered = ev.find((e) => e.Type === 'JobRegistered')!;
    assert.equal(registered.Key, 'web');
    assert.equal(registered.Namespace, 'default');
    assert.equal((registered.Payload as { Job: { ID: string } }).Job.ID, 'web');
    const alloc = ev.find((e) => e.Topic === 'Allocation')!;
    // As Nomad: an allocation event is found by its job and by its deployment.
    assert.deepEqual(alloc.FilterKeys, ['web', (alloc.Payload as { Allocation: { DeploymentID: string } }).Allocation.DeploymentID]);
    assert.ok(types.has('Deployment/PlanResult'), 'the deployment the plan created is on the stream');
    assert.equal((alloc.Payload as { Allocation: { Job: unknown } }).Allocation.Job, null, 'allocation events carry no job');
    const node = ev.find((e) => e.Topic === 'Node')!;
    assert.equal((node.Payload as { Node: { SecretID: string } }).Node.SecretID, '', 'a node secret never leaves the server');

    await jobsOnly.waitUntil((l) => events(l).length >= 1, 5_000, 'job event');
    assert.ok(events(jobsOnly.lines).every((e) => e.Topic === 'Job'), 'topic=Job:* delivers job events only');

    // Resume: a new subscriber from the job's index gets exactly the held batches from there on.
    const from = registered.Index;
    const resumed = await NdjsonStream.open(`${h.url}/v1/event/stream?index=${from}`);
    const expected = batches(all.lines).filter((b) => b.Index >= from);
    await resumed.waitUntil((l) => batches(l).length >= expected.length, 5_000, 'resumed backlog');
    assert.deepEqual(batches(resumed.lines).slice(0, expected.length), expected);
    resumed.close();

    // A key filter: only this allocation's events, and only allocation events.
    const allocId = alloc.Key;
    const one = await NdjsonStream.open(`${h.url}/v1/event/stream?index=1&topic=Allocation:${allocId}`);
    await one.waitUntil((l) => events(l).length >= 2, 5_000, 'events of one allocation');
    assert.ok(events(one.lines).every((e) => e.Topic === 'Allocation' && e.Key === allocId));
    one.close();

    // Stopping the job is a deregistration on the stream.
    const stop = await call(h.url, 'DELETE', '/v1/job/web');
    assert.equal(stop.status, 200, stop.text);
    await jobsOnly.waitUntil((l) => events(l).some((e) => e.Type === 'JobDeregistered'), 5_000, 'JobDeregistered');
    const other = await NdjsonStream.open(`${h.url}/v1/event/stream?index=1&namespace=other`);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(events(other.lines).every((e) => e.Topic === 'Node'), 'another namespace sees no default-namespace job events');
    other.close();
  } finally {
    all.close();
    jobsOnly.close();
    await client.close();
    await h.close();
  }
});

void test('event stream: heartbeats while idle; bad parameters are 400', async () => {
  const h = await startApiHarness({ eventHeartbeatMs: 150 });
  try {
    const s = await NdjsonStream.open(`${h.url}/v1/event/stream?topic=Deployment`);
    await s.waitUntil((l) => l.filter((x) => JSON.stringify(x) === '{}').length >= 2, 5_000, 'two heartbeats');
    s.close();
    for (const q of ['topic=Nope:*', 'index=abc', 'index=-1', 'topic=Job:']) {
      const r = await call(h.url, 'GET', `/v1/event/stream?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
    }
  } finally {
    await h.close();
  }
});

void test('event stream: the resume ring is bounded; an index older than the ring starts at the oldest held', async () => {
  const h = await startApiHarness({ eventHeartbeatMs: 60_000, eventBuffer: { capacity: 5 } });
  try {
    for (let i = 0; i < 7; i++) {
      const r = await call(h.url, 'POST', '/v1/jobs', { Job: testJob({ ID: `j${i}`, Name: `j${i}` }) });
      assert.equal(r.status, 200, r.text);
    }
    // Let scheduling settle first: its evaluation updates would otherwise push the last job's
    // own event out of a five-event ring before this test looks.
    const settled = (): boolean => {
      const b = h.ts.server.broker.stats();
      return b.ready === 0 && b.unacked === 0 && h.ts.server.state.evals().every((e) => e.Status !== 'pending');
    };
    await waitFor(settled, 20_000, 'the first jobs scheduled');
    const r7 = await call(h.url, 'POST', '/v1/jobs', { Job: testJob({ ID: 'j7', Name: 'j7' }) });
    assert.equal(r7.status, 200, r7.text);
    await waitFor(settled, 20_000, 'the last job scheduled');
    await waitFor(() => h.api.events!.held().some((b) => b.Events.some((e) => e.Key === 'j7')), 20_000, 'last job event');
    const held = h.api.events!.held();
    assert.ok(held.reduce((n, b) => n + b.Events.length, 0) <= 5 + 2, 'the ring keeps about `capacity` events');
    assert.ok(!held.some((b) => b.Events.some((e) => e.Key === 'j0')), 'old events were dropped');
    const s = await NdjsonStream.open(`${h.url}/v1/event/stream?index=1&topic=Job`);
    await s.waitUntil((l) => events(l).some((e) => e.Key === 'j7'), 5_000, 'latest job');
    assert.equal(batches(s.lines)[0]!.Index, held.find((b) => b.Events.some((e) => e.Topic === 'Job'))!.Index);
    s.close();
  } finally {
    await h.close();
  }
});

void test('api client: events.stream yields batches for the topics asked, resuming from an index', async () => {
  const h = await startApiHarness({ eventHeartbeatMs: 100 });
  const ac = new AbortController();
  try {
    const client = new ApiClient({ address: h.url });
    const r = await call(h.url, 'POST', '/v1/jobs', { Job: testJob({ ID: 'api-job', Name: 'api-job' }) });
    assert.equal(r.status, 200, r.text);
    const got: StreamEvent[] = [];
    for await (const b of client.events.stream({ topics: ['Job:api-job', 'Evaluation'], index: 1, signal: ac.signal })) {
      got.push(...(b.Events as unknown as StreamEvent[]));
      if (got.some((e) => e.Topic === 'Job') && got.some((e) => e.Topic === 'Evaluation')) break;
    }
    assert.ok(got.every((e) => (e.Topic === 'Job' && e.Key === 'api-job') || e.Topic === 'Evaluation'));
  } finally {
    ac.abort();
    await h.close();
  }
});

void test('event stream: node registration, eligibility and drain changes, and a job purge', async () => {
  const h = await startApiHarness({ eventHeartbeatMs: 60_000 });
  const client = new FakeClient(testNode('node-b'), h.ts.rpcAddr);
  const s = await NdjsonStream.open(`${h.url}/v1/event/stream?topic=Node&topic=Job`);
  try {
    await client.start();
    const id = client.node.ID;
    const typesFor = (topic: string): string[] => events(s.lines).filter((e) => e.Topic === topic).map((e) => e.Type);
    await s.waitUntil(() => typesFor('Node').includes('NodeRegistration'), 5_000, 'registration');
    assert.equal((await call(h.url, 'POST', `/v1/node/${id}/eligibility`, { Eligibility: 'ineligible' })).status, 200);
    await s.waitUntil(() => typesFor('Node').includes('NodeEligibility'), 5_000, 'eligibility');
    assert.equal((await call(h.url, 'POST', `/v1/node/${id}/drain`, { DrainSpec: { Deadline: 60e9, IgnoreSystemJobs: false } })).status, 200);
    await s.waitUntil(() => typesFor('Node').includes('NodeDrain'), 5_000, 'drain');

    const reg = await call(h.url, 'POST', '/v1/jobs', { Job: testJob({ ID: 'gone', Name: 'gone' }) });
    assert.equal(reg.status, 200, reg.text);
    assert.equal((await call(h.url, 'DELETE', '/v1/job/gone?purge=true')).status, 200);
    await s.waitUntil(() => typesFor('Job').includes('JobDeregistered'), 5_000, 'purge');
    const purged = events(s.lines).find((e) => e.Topic === 'Job' && e.Type === 'JobDeregistered')!;
    assert.equal(purged.Key, 'gone');
    assert.equal((purged.Payload as { Job: { ID: string } }).Job.ID, 'gone', 'a purged job still carries its last version');
    assert.equal(h.ts.server.state.jobById('default', 'gone'), null);
  } finally {
    s.close();
    await client.close();
    await h.close();
  }
});
