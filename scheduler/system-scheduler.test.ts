import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemScheduler } from './system-scheduler.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';
import { testEval, testGroup, testJob, testNode, testTask } from './testing/fixtures.js';
import type { Job } from '../structs/job.js';
import type { Node } from '../structs/node.js';

const ctx = testContext(7);
let evalSeq = 0;

function setup(nodes: Node[]) {
  const state = new MemState();
  for (const n of nodes) state.putNode(n);
  return { state, planner: new RecordingPlanner(state) };
}

async function run(state: MemState, planner: RecordingPlanner, job: Job, trigger: 'job-register' | 'node-update' = 'job-register') {
  await new SystemScheduler(state, planner, ctx).process(testEval(job, { ID: `sys-eval-${++evalSeq}`, TriggeredBy: trigger }));
  return planner.evals.at(-1)!;
}

const sysJob = (over: Partial<Job> = {}) => testJob({ ID: 'agent', Name: 'agent', Type: 'system', TaskGroups: [testGroup({ Name: 'agent', Count: 1 })], ...over });

const nodesOf = (state: MemState, jobId: string) => state.liveAllocs(jobId).map((a) => a.NodeID).sort();

void test('a system job runs once on every feasible node; filtered nodes are not failures', async () => {
  const { state, planner } = setup([
    testNode('a'),
    testNode('b'),
    testNode('c', { Attributes: { 'kernel.name': 'windows', 'driver.exec': '1' } }),
    testNode('d', { Status: 'down' }),
  ]);
  const job = sysJob({ Constraints: [{ LTarget: '${attr.kernel.name}', RTarget: 'linux', Operand: '=' }], TaskGroups: [testGroup({ Name: 'agent', Count: 5 })] });
  state.putJob(job);
  const ev = await run(state, planner, job);
  assert.deepEqual(nodesOf(state, 'agent'), ['a', 'b'], 'count 5 is ignored: one per feasible ready node');
  assert.deepEqual([...new Set(state.liveAllocs('agent').map((a) => a.Name))], ['agent.agent[0]']);
  assert.equal(ev.Status, 'complete');
  assert.equal(ev.FailedTGAllocs, null, 'a constraint mismatch is not a placement failure for system jobs');
  assert.equal(planner.created.length, 0);
});

void test('a new node gets the system job; a node that goes down loses it; a draining node has it stopped; an ineligible one keeps it', async () => {
  const { state, planner } = setup([testNode('a'), testNode('b'), testNode('c')]);
  const job = sysJob();
  state.putJob(job);
  await run(state, planner, job);
  assert.deepEqual(nodesOf(state, 'agent'), ['a', 'b', 'c']);
  const onA = state.liveAllocs('agent').find((a) => a.NodeID === 'a')!;

  state.putNode(testNode('e'));
  state.putNode(testNode('a', { Status: 'down' }));
  state.putNode(testNode('b', { Drain: true, SchedulingEligibility: 'ineligible' }));
  state.putNode(testNode('c', { SchedulingEligibility: 'ineligible' }));
  await run(state, planner, job, 'node-update');
  assert.deepEqual(nodesOf(state, 'agent'), ['c', 'e']);
  const lost = state.allocMap.get(onA.ID)!;
  assert.equal(lost.ClientStatus, 'lost');
  assert.equal(lost.DesiredStatus, 'stop');
  const drained = [...state.allocMap.values()].find((a) => a.NodeID === 'b')!;
  assert.equal(drained.DesiredStatus, 'stop');
  assert.equal(drained.DesiredDescription, 'alloc not needed as node is tainted');
});

void test('nodes without room are reported per group with the exhausted dimension, coalesced across nodes', async () => {
  const { state, planner } = setup([testNode('small1', {}, 4000, 512), testNode('small2', {}, 4000, 512), testNode('big')]);
  const job = sysJob({ TaskGroups: [testGroup({ Name: 'agent', Tasks: [testTask({ Resources: { CPU: 100, Cores: 0, MemoryMB: 1024, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })] })] });
  state.putJob(job);
  const ev = await run(state, planner, job);
  assert.deepEqual(nodesOf(state, 'agent'), ['big']);
  const m = ev.FailedTGAllocs?.['agent'];
  assert.ok(m);
  assert.deepEqual(m.DimensionExhausted, { memory: 2 });
  assert.equal(m.NodesExhausted, 2);
  assert.equal(m.CoalescedFailures, 1);
  assert.deepEqual(ev.QueuedAllocations, { agent: 2 });
  assert.equal(planner.created.at(-1)?.Status, 'blocked');
});

void test('sysbatch: a completed run is not repeated on its node; a new job version runs again', async () => {
  const { state, planner } = setup([testNode('a'), testNode('b')]);
  const job = sysJob({ ID: 'once', Type: 'sysbatch' });
  state.putJob(job);
  await run(state, planner, job);
  for (const a of state.liveAllocs('once')) state.putAlloc({ ...a, ClientStatus: 'complete' });
  await run(state, planner, job, 'node-update');
  assert.equal(state.liveAllocs('once').length, 0, 'nothing re-run after completion');
  assert.equal([...state.allocMap.values()].length, 2);
  const v2 = { ...job, Version: 1, JobModifyIndex: 50, TaskGroups: [testGroup({ Name: 'agent', Tasks: [testTask({ Env: { V: '2' } })] })] };
  state.putJob(v2);
  await run(state, planner, v2);
  assert.deepEqual(nodesOf(state, 'once'), ['a', 'b']);
});

void test('stopping a system job stops it everywhere; a job update replaces it on the same nodes', async () => {
  const { state, planner } = setup([testNode('a'), testNode('b')]);
  const job = sysJob();
  state.putJob(job);
  await run(state, planner, job);
  const v2 = { ...job, Version: 1, JobModifyIndex: 40, TaskGroups: [testGroup({ Name: 'agent', Tasks: [testTask({ Env: { V: '2' } })] })] };
  state.putJob(v2);
  await run(state, planner, v2);
  const live = state.liveAllocs('agent');
  assert.deepEqual(live.map((a) => a.NodeID).sort(), ['a', 'b']);
  assert.ok(live.every((a) => a.Job.Version === 1 && a.PreviousAllocation !== ''));
  const stopped = { ...v2, Stop: true, JobModifyIndex: 41 };
  state.putJob(stopped);
  await run(state, planner, stopped);
  assert.equal(state.liveAllocs('agent').length, 0);
});
