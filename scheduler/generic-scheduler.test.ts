import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenericScheduler } from './generic-scheduler.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';
import { testEval, testGroup, testJob, testNode, testTask } from './testing/fixtures.js';

function setup(nodes = [testNode('n1'), testNode('n2')]) {
  const state = new MemState();
  for (const n of nodes) state.putNode(n);
  const planner = new RecordingPlanner(state);
  return { state, planner };
}

// One context for the whole file: IDs stay unique across scheduler runs.
const ctx = testContext();

async function run(state: MemState, planner: RecordingPlanner, job = state.jobs.values().next().value!, ev = testEval(job)) {
  await new GenericScheduler(state, planner, ctx).process(ev);
  return planner.evals.at(-1)!;
}

void test('places every allocation of a group and names them job.group[i]', async () => {
  const { state, planner } = setup();
  const job = testJob({ TaskGroups: [testGroup({ Count: 3 })] });
  state.putJob(job);
  const ev = await run(state, planner, job);
  assert.equal(ev.Status, 'complete');
  assert.equal(ev.FailedTGAllocs, null);
  const names = state.liveAllocs('example').map((a) => a.Name).sort();
  assert.deepEqual(names, ['example.web[0]', 'example.web[1]', 'example.web[2]']);
  for (const a of state.liveAllocs('example')) {
    assert.equal(a.DesiredStatus, 'run');
    assert.equal(a.ClientStatus, 'pending');
    assert.equal(a.AllocatedResources.Tasks['web']!.Memory.MemoryMB, 256);
  }
});

void test('bin packing prefers the fuller node', async () => {
  const busy = testNode('busy');
  const empty = testNode('empty');
  const { state, planner } = setup([busy, empty]);
  const other = testJob({ ID: 'other', Name: 'other', TaskGroups: [testGroup({ Tasks: [testTask({ Resources: { CPU: 2000, Cores: 0, MemoryMB: 4096, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })] })] });
  state.putJob(other);
  await run(state, planner, other, testEval(other));
  const otherNode = state.liveAllocs('other')[0]!.NodeID;
  const job = testJob();
  state.putJob(job);
  await run(state, planner, job);
  assert.equal(state.liveAllocs('example')[0]!.NodeID, otherNode, 'the second job packs onto the node already in use');
});

void test('a job too large for every node reports the exhausted dimension and leaves a blocked eval', async () => {
  const { state, planner } = setup([testNode('n1', {}, 4000, 1024)]);
  const job = testJob({ TaskGroups: [testGroup({ Count: 2, Tasks: [testTask({ Resources: { CPU: 100, Cores: 0, MemoryMB: 2048, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })] })] });
  state.putJob(job);
  const ev = await run(state, planner, job);
  assert.equal(ev.Status, 'complete');
  const m = ev.FailedTGAllocs?.['web'];
  assert.ok(m, 'failure metrics recorded for group web');
  assert.equal(m.NodesEvaluated, 1);
  assert.equal(m.NodesExhausted, 1);
  assert.deepEqual(m.DimensionExhausted, { memory: 1 });
  assert.equal(m.CoalescedFailures, 1, 'the second identical failure is coalesced');
  assert.equal(planner.created.length, 1);
  assert.equal(planner.created[0]!.Status, 'blocked');
  assert.deepEqual(planner.created[0]!.QueuedAllocations, { web: 2 });
  assert.equal(ev.BlockedEval, planner.created[0]!.ID);
});

void test('constraints filter nodes and say which constraint did it', async () => {
  const { state, planner } = setup([testNode('n1', { Meta: { rack: 'r1' } }), testNode('n2', { Meta: { rack: 'r2' } })]);
  const job = testJob({ Constraints: [{ LTarget: '${meta.rack}', RTarget: 'r2', Operand: '=' }], TaskGroups: [testGroup({ Count: 2 })] });
  state.putJob(job);
  await run(state, planner, job);
  assert.deepEqual(new Set(state.liveAllocs('example').map((a) => a.NodeID)), new Set(['n2']));
  const unplaceable = testJob({ ID: 'nowhere', Constraints: [{ LTarget: '${attr.kernel.name}', RTarget: 'windows', Operand: '=' }] });
  state.putJob(unplaceable);
  const ev = await run(state, planner, unplaceable, testEval(unplaceable));
  assert.deepEqual(ev.FailedTGAllocs?.['web']?.ConstraintFiltered, { '${attr.kernel.name} = windows': 2 });
});

void test('nodes without a class count in the totals but under no class, as Nomad reports them', async () => {
  const small = (id: string, cls: string) => testNode(id, { NodeClass: cls }, 4000, 1024);
  const { state, planner } = setup([small('c1', 'edge'), small('c2', ''), testNode('w1', { NodeClass: 'edge', Drivers: {} }), testNode('w2', { Drivers: {} })]);
  const job = testJob({ TaskGroups: [testGroup({ Tasks: [testTask({ Resources: { CPU: 100, Cores: 0, MemoryMB: 2048, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })] })] });
  state.putJob(job);
  const m = (await run(state, planner, job)).FailedTGAllocs?.['web'];
  assert.ok(m, 'failure metrics recorded for group web');
  assert.equal(m.NodesFiltered, 2);
  assert.deepEqual(m.ConstraintFiltered, { 'missing drivers': 2 });
  assert.deepEqual(m.ClassFiltered, { edge: 1 });
  assert.equal(m.NodesExhausted, 2);
  assert.deepEqual(m.DimensionExhausted, { memory: 2 });
  assert.deepEqual(m.ClassExhausted, { edge: 1 });
});

void test('nodes without the task driver are filtered as "missing drivers"', async () => {
  const { state, planner } = setup([testNode('n1', { Drivers: {} })]);
  const job = testJob();
  state.putJob(job);
  const ev = await run(state, planner, job);
  assert.deepEqual(ev.FailedTGAllocs?.['web']?.ConstraintFiltered, { 'missing drivers': 1 });
});

void test('stopping a job stops its allocations; scaling down stops the highest indexes', async () => {
  const { state, planner } = setup();
  const job = testJob({ TaskGroups: [testGroup({ Count: 3 })] });
  state.putJob(job);
  await run(state, planner, job);
  const smaller = { ...job, TaskGroups: [testGroup({ Count: 1 })], JobModifyIndex: 20, Version: 1 };
  state.putJob(smaller);
  await run(state, planner, smaller, testEval(smaller, { ID: 'eval-2' }));
  assert.deepEqual(state.liveAllocs('example').map((a) => a.Name), ['example.web[0]']);
  const stopped = { ...smaller, Stop: true, JobModifyIndex: 30, Version: 2 };
  state.putJob(stopped);
  await run(state, planner, stopped, testEval(stopped, { ID: 'eval-3' }));
  assert.equal(state.liveAllocs('example').length, 0);
});

void test('allocations on a down node are marked lost and replaced on a healthy node', async () => {
  const { state, planner } = setup([testNode('n1')]);
  const job = testJob();
  state.putJob(job);
  await run(state, planner, job);
  const first = state.liveAllocs('example')[0]!;
  state.putNode(testNode('n1', { Status: 'down' }));
  state.putNode(testNode('n2'));
  await run(state, planner, job, testEval(job, { ID: 'eval-2', TriggeredBy: 'node-update' }));
  const lost = state.allocMap.get(first.ID)!;
  assert.equal(lost.ClientStatus, 'lost');
  assert.equal(lost.DesiredStatus, 'stop');
  const live = state.liveAllocs('example');
  assert.equal(live.length, 1);
  assert.equal(live[0]!.NodeID, 'n2');
  assert.equal(live[0]!.PreviousAllocation, first.ID);
});

void test('a refused plan is retried against refreshed state', async () => {
  const { state, planner } = setup();
  const job = testJob();
  state.putJob(job);
  planner.refuseNext = 1;
  const ev = await run(state, planner, job);
  assert.equal(planner.plans.length, 2);
  assert.equal(ev.Status, 'complete');
  assert.equal(state.liveAllocs('example').length, 1);
});

void test('a changed task is a destructive update; a count-only change is not', async () => {
  const { state, planner } = setup();
  const job = testJob({ TaskGroups: [testGroup({ Count: 1 })] });
  state.putJob(job);
  await run(state, planner, job);
  const before = state.liveAllocs('example')[0]!;
  const changed = { ...job, JobModifyIndex: 20, Version: 1, TaskGroups: [testGroup({ Count: 1, Tasks: [testTask({ Env: { V: '2' } })] })] };
  state.putJob(changed);
  await run(state, planner, changed, testEval(changed, { ID: 'eval-2' }));
  const after = state.liveAllocs('example');
  assert.equal(after.length, 1);
  assert.notEqual(after[0]!.ID, before.ID);
  assert.equal(after[0]!.PreviousAllocation, before.ID);
  assert.equal(after[0]!.Job.Version, 1);
});

void test('an evaluation that places everything ends in its plan: one commit, no separate update', async () => {
  const { state, planner } = setup();
  const job = testJob({ TaskGroups: [testGroup({ Count: 2 })] });
  state.putJob(job);
  const ev = await run(state, planner, job);
  assert.equal(ev.Status, 'complete');
  assert.deepEqual(ev.QueuedAllocations, { web: 0 });
  assert.equal(planner.plans[0]?.EvalUpdate?.Status, 'complete');
  assert.equal(planner.separateUpdates, 0);
});

void test('an evaluation with placements that fail updates itself after the plan, with its blocked evaluation', async () => {
  const { state, planner } = setup([testNode('n1', {}, 1000)]);
  const job = testJob({ TaskGroups: [testGroup({ Count: 3, Tasks: [testTask({ Resources: { CPU: 400, Cores: 0, MemoryMB: 64, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })] })] });
  state.putJob(job);
  const ev = await run(state, planner, job);
  assert.equal(planner.plans[0]?.EvalUpdate ?? null, null, 'a plan that leaves work undone does not end the evaluation');
  assert.equal(planner.separateUpdates, 1);
  assert.notEqual(ev.BlockedEval, '');
  assert.ok(ev.FailedTGAllocs?.['web']);
});
