import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGroup, testJob, testNode } from '../../scheduler/testing/fixtures.js';
import type { Allocation } from '../../structs/alloc.js';
import type { Job } from '../../structs/job.js';
import { nowNs } from './server.js';
import { FakeClient, startTestServer, waitFor, type TestServer } from './testing/test-server.js';

const HB = { minHeartbeatTtlMs: 2_000, heartbeatGraceMs: 2_000, maxHeartbeatsPerSecond: 50, failoverTtlMs: 10_000 };

async function post(ts: TestServer, path: string, body: unknown): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(`${ts.httpUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

/** Put a job in state without scheduling it, and an allocation of it on a node — both through Raft. */
async function placeDirectly(ts: TestServer, job: Job, nodeId: string, id: string): Promise<void> {
  await ts.server.applyCommand({ type: 'JobRegister', job, eval: null, now: nowNs() });
  const stored = ts.server.state.jobById(job.Namespace, job.ID)!;
  const alloc: Allocation = {
    ID: id, Namespace: job.Namespace, EvalID: 'manual', Name: `${job.ID}.web[0]`, NodeID: nodeId, NodeName: nodeId, JobID: job.ID, Job: stored,
    TaskGroup: 'web', AllocatedResources: { Tasks: {}, Shared: { DiskMB: 0, Networks: [], Ports: [] } }, Metrics: null, DesiredStatus: 'run',
    DesiredDescription: '', DesiredTransition: {}, ClientStatus: 'running', ClientDescription: '', TaskStates: {}, DeploymentID: '',
    PreviousAllocation: '', NextAllocation: '', FollowupEvalID: '', RescheduleTracker: null, CreateIndex: 0, ModifyIndex: 0, AllocModifyIndex: 0,
    CreateTime: 0, ModifyTime: 0,
  };
  await ts.server.applyCommand({ type: 'PlanApply', evalId: 'manual', job: stored, placed: [alloc], updated: [], evals: [], now: nowNs() });
}

void test('drain: service allocations migrate one at a time (migrate max_parallel), the drain clears, the node stays ineligible', async () => {
  const ts = await startTestServer({ heartbeat: HB, drainIntervalMs: 50 });
  const a = new FakeClient(testNode('node-a'), ts.rpcAddr);
  const b = new FakeClient(testNode('node-b'), ts.rpcAddr);
  try {
    a.autoReport(0);
    await a.start();
    const job = testJob({ ID: 'web', Name: 'web', TaskGroups: [testGroup({ Count: 3, Migrate: { MaxParallel: 1, HealthCheck: 'task_states', MinHealthyTime: 0, HealthyDeadline: 0 } })] });
    await ts.endpoints.jobRegister(job);
    const running = (): Allocation[] => ts.server.state.allocsByJob('default', 'web').filter((x) => x.DesiredStatus === 'run' && x.ClientStatus === 'running');
    await waitFor(() => running().length === 3, 10_000, 'three allocations running on A');

    // B is slow to start what it gets, so a drain that ignored max_parallel would be visible.
    b.autoReport(150);
    await b.start();
    let minRunning = 3;
    const off = ts.server.state.onChange(() => (minRunning = Math.min(minRunning, running().length)));
    const r = await post(ts, '/v1/node/node-a/drain', { DrainSpec: { Deadline: 0, IgnoreSystemJobs: false }, MarkEligible: false });
    assert.equal(r.status, 200, r.text);
    assert.ok((r.json as { NodeModifyIndex: number }).NodeModifyIndex > 0);
    assert.equal(ts.server.state.nodeById('node-a')!.SchedulingEligibility, 'ineligible', 'a draining node takes no new work');

    await waitFor(() => ts.server.state.nodeById('node-a')!.DrainStrategy === null, 15_000, 'drain completes');
    off();
    const live = ts.server.state.allocsByJob('default', 'web').filter((x) => x.DesiredStatus === 'run');
    assert.deepEqual(live.map((x) => x.NodeID), ['node-b', 'node-b', 'node-b']);
    assert.ok(minRunning >= 2, `never fewer than count - max_parallel running (min seen ${minRunning})`);
    const migrated = ts.server.state.allocsByNode('node-a');
    assert.equal(migrated.length, 3);
    for (const m of migrated) {
      assert.equal(m.DesiredStatus, 'stop');
      assert.equal(m.DesiredTransition.Migrate, true);
    }
    const node = ts.server.state.nodeById('node-a')!;
    assert.equal(node.Drain, false);
    assert.equal(node.SchedulingEligibility, 'ineligible', 'a finished drain leaves the node ineligible');

    const el = await post(ts, '/v1/node/node-a/eligibility', { Eligibility: 'eligible' });
    assert.equal(el.status, 200, el.text);
    assert.equal(ts.server.state.nodeById('node-a')!.SchedulingEligibility, 'eligible');
  } finally {
    await a.close();
    await b.close();
    await ts.stop();
  }
});

void test('drain: batch waits for the deadline, system jobs go last, or stay when ignored', async () => {
  const ts = await startTestServer({ heartbeat: HB, drainIntervalMs: 50 });
  const a = new FakeClient(testNode('node-a'), ts.rpcAddr);
  const c = new FakeClient(testNode('node-c'), ts.rpcAddr);
  try {
    await a.start();
    await c.start();
    await placeDirectly(ts, testJob({ ID: 'batch', Name: 'batch', Type: 'batch' }), 'node-a', 'batch-1');
    await placeDirectly(ts, testJob({ ID: 'sys', Name: 'sys', Type: 'system' }), 'node-a', 'sys-1');
    await placeDirectly(ts, testJob({ ID: 'sys', Name: 'sys', Type: 'system' }), 'node-c', 'sys-2');

    const r = await post(ts, '/v1/node/node-a/drain', { DrainSpec: { Deadline: 600e6, IgnoreSystemJobs: false } });
    assert.equal(r.status, 200, r.text);
    const drain = ts.server.state.nodeById('node-a')!.DrainStrategy!;
    assert.ok(drain.ForceDeadline > drain.StartedAt, 'a positive deadline sets the force deadline');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(ts.server.state.allocById('batch-1')!.DesiredStatus, 'run', 'batch work may finish before the deadline');
    assert.equal(ts.server.state.allocById('sys-1')!.DesiredStatus, 'run', 'system allocations wait for everything else');

    await waitFor(() => ts.server.state.nodeById('node-a')!.DrainStrategy === null, 5_000, 'drain completes at the deadline');
    assert.equal(ts.server.state.allocById('batch-1')!.DesiredStatus, 'stop');
    assert.equal(ts.server.state.allocById('sys-1')!.DesiredStatus, 'stop');

    // IgnoreSystemJobs: the system allocation stays and the drain still completes.
    const r2 = await post(ts, '/v1/node/node-c/drain', { DrainSpec: { Deadline: -1, IgnoreSystemJobs: true } });
    assert.equal(r2.status, 200, r2.text);
    await waitFor(() => ts.server.state.nodeById('node-c')!.DrainStrategy === null, 5_000, 'forced drain completes');
    assert.equal(ts.server.state.allocById('sys-2')!.DesiredStatus, 'run', 'ignored system allocation keeps running');
  } finally {
    await a.close();
    await c.close();
    await ts.stop();
  }
});

void test('eligibility and drain endpoints: bad input is a 4xx with a clear message', async () => {
  const ts = await startTestServer({ heartbeat: HB, drainIntervalMs: 50 });
  const a = new FakeClient(testNode('node-a'), ts.rpcAddr);
  try {
    await a.start();
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['/v1/node/node-a/eligibility', { Eligibility: 'maybe' }, 400, /Eligibility must be/],
      ['/v1/node/node-a/eligibility', [], 400, /JSON object/],
      ['/v1/node/nope/eligibility', { Eligibility: 'eligible' }, 404, /node not found/],
      ['/v1/node/node-a/drain', { DrainSpec: { Deadline: 'soon' } }, 400, /Deadline/],
      ['/v1/node/node-a/drain', { DrainSpec: 5 }, 400, /DrainSpec must be/],
      ['/v1/node/node-a/drain', { MarkEligible: 'yes' }, 400, /MarkEligible/],
    ];
    for (const [path, body, status, msg] of cases) {
      const r = await post(ts, path, body);
      assert.equal(r.status, status, `${path} ${JSON.stringify(body)} -> ${r.status} ${r.text}`);
      assert.match(r.text, msg);
    }
    const e1 = await post(ts, '/v1/node/node-a/eligibility', { Eligibility: 'ineligible' });
    assert.equal(e1.status, 200);
    assert.equal(ts.server.state.nodeById('node-a')!.SchedulingEligibility, 'ineligible');
    // With the drainer paused a drain stays in progress; a draining node cannot be made eligible.
    ts.server.drainer.stop();
    await ts.endpoints.nodeUpdateDrain('node-a', { Deadline: 3600e9, IgnoreSystemJobs: false }, false);
    assert.ok(ts.server.state.nodeById('node-a')!.DrainStrategy !== null);
    const e2 = await post(ts, '/v1/node/node-a/eligibility', { Eligibility: 'eligible' });
    assert.equal(e2.status, 400, e2.text);
    assert.match(e2.text, /while it is draining/);
    // Cancelling the drain with MarkEligible makes it eligible again.
    const d = await post(ts, '/v1/node/node-a/drain', { DrainSpec: null, MarkEligible: true });
    assert.equal(d.status, 200, d.text);
    const n = ts.server.state.nodeById('node-a')!;
    assert.equal(n.DrainStrategy, null);
    assert.equal(n.SchedulingEligibility, 'eligible');
  } finally {
    await a.close();
    await ts.stop();
  }
});
