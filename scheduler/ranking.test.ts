import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenericScheduler } from './generic-scheduler.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';
import { testEval, testGroup, testJob, testNode, testTask } from './testing/fixtures.js';
import type { Job } from '../structs/job.js';
import type { Node } from '../structs/node.js';

let seq = 0;

function cluster(nodes: Node[]) {
  const state = new MemState();
  for (const n of nodes) state.putNode(n);
  return state;
}

async function place(state: MemState, job: Job, seed = 5) {
  state.putJob(job);
  const planner = new RecordingPlanner(state);
  await new GenericScheduler(state, planner, testContext(seed)).process(testEval(job, { ID: `rank-${++seq}` }));
  return planner.evals.at(-1)!;
}

const small = () => [testTask({ Resources: { CPU: 100, Cores: 0, MemoryMB: 64, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })];
const racks = (n: number, per: number) => Array.from({ length: n * per }, (_, i) => testNode(`n${i}`, { Meta: { rack: `r${i % n}` } }));

void test('distinct_hosts puts each allocation on its own node and reports the rest', async () => {
  const state = cluster([testNode('a'), testNode('b'), testNode('c')]);
  const job = testJob({ ID: 'dh', Constraints: [{ LTarget: '', RTarget: '', Operand: 'distinct_hosts' }], TaskGroups: [testGroup({ Count: 4, Tasks: small() })] });
  const ev = await place(state, job);
  const nodes = state.liveAllocs('dh').map((a) => a.NodeID);
  assert.equal(nodes.length, 3);
  assert.equal(new Set(nodes).size, 3);
  assert.deepEqual(ev.FailedTGAllocs?.['web']?.ConstraintFiltered, { distinct_hosts: 3 });
});

void test('distinct_property allows RTarget allocations per value', async () => {
  const state = cluster(racks(2, 3));
  const job = testJob({ ID: 'dp', TaskGroups: [testGroup({ Count: 5, Tasks: small(), Constraints: [{ LTarget: '${meta.rack}', RTarget: '2', Operand: 'distinct_property' }] })] });
  const ev = await place(state, job);
  const perRack = new Map<string, number>();
  for (const a of state.liveAllocs('dp')) {
    const r = state.nodeById(a.NodeID)!.Meta['rack']!;
    perRack.set(r, (perRack.get(r) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(perRack), { r0: 2, r1: 2 });
  assert.equal(ev.FailedTGAllocs?.['web']?.ConstraintFiltered['distinct_property: ${meta.rack}'], 6);
});

void test('affinities steer placements towards (or away from) matching nodes and are scored as node-affinity', async () => {
  const state = cluster(racks(4, 5));
  const toward = testJob({ ID: 'aff', Affinities: [{ LTarget: '${meta.rack}', RTarget: 'r2', Operand: '=', Weight: 100 }], TaskGroups: [testGroup({ Count: 3, Tasks: small() })] });
  await place(state, toward);
  for (const a of state.liveAllocs('aff')) {
    assert.equal(state.nodeById(a.NodeID)!.Meta['rack'], 'r2');
    assert.equal(a.Metrics!.ScoreMetaData[0]!.Scores['node-affinity'], 1);
  }
  const away = testJob({ ID: 'anti', Affinities: [{ LTarget: '${meta.rack}', RTarget: 'r0', Operand: '=', Weight: -50 }], TaskGroups: [testGroup({ Count: 6, Tasks: small() })] });
  await place(state, away);
  for (const a of state.liveAllocs('anti')) assert.notEqual(state.nodeById(a.NodeID)!.Meta['rack'], 'r0');
});

void test('spread with targets places allocations in proportion to the percentages', async () => {
  const state = cluster(racks(2, 10));
  const job = testJob({
    ID: 'sp',
    Spreads: [{ Attribute: '${meta.rack}', Weight: 100, SpreadTarget: [{ Value: 'r0', Percent: 70 }, { Value: 'r1', Percent: 30 }] }],
    TaskGroups: [testGroup({ Count: 10, Tasks: small() })],
  });
  await place(state, job);
  const count = (r: string) => state.liveAllocs('sp').filter((a) => state.nodeById(a.NodeID)!.Meta['rack'] === r).length;
  assert.equal(count('r0'), 7);
  assert.equal(count('r1'), 3);
});

void test('spread without targets spreads evenly, overriding bin packing', async () => {
  const state = cluster(racks(3, 4));
  const job = testJob({ ID: 'even', Spreads: [{ Attribute: '${meta.rack}', Weight: 100, SpreadTarget: [] }], TaskGroups: [testGroup({ Count: 9, Tasks: small() })] });
  await place(state, job);
  const perRack = new Map<string, number>();
  for (const a of state.liveAllocs('even')) {
    const r = state.nodeById(a.NodeID)!.Meta['rack']!;
    perRack.set(r, (perRack.get(r) ?? 0) + 1);
  }
  assert.deepEqual([...perRack.values()], [3, 3, 3]);
});

void test('job anti-affinity spreads a group over nodes even though bin packing favours one', async () => {
  const state = cluster([testNode('a'), testNode('b'), testNode('c')]);
  const job = testJob({ ID: 'aa', TaskGroups: [testGroup({ Count: 3, Tasks: small() })] });
  await place(state, job);
  assert.equal(new Set(state.liveAllocs('aa').map((a) => a.NodeID)).size, 3);
  const scored = state.liveAllocs('aa').flatMap((a) => a.Metrics!.ScoreMetaData);
  assert.ok(scored.some((s) => s.Scores['job-anti-affinity'] !== undefined && s.Scores['job-anti-affinity'] < 0));
});

void test('job anti-affinity counts what already runs: scaling up avoids nodes holding the group from earlier evaluations', async () => {
  const state = cluster([testNode('a'), testNode('b'), testNode('c')]);
  // One context for both evaluations: a fresh one would mint the same allocation IDs again.
  const ctx = testContext(5);
  const run = async (job: Job, id: string): Promise<void> => {
    state.putJob(job);
    await new GenericScheduler(state, new RecordingPlanner(state), ctx).process(testEval(job, { ID: id }));
  };
  const job = testJob({ ID: 'grow', TaskGroups: [testGroup({ Count: 2, Tasks: small() })] });
  await run(job, 'grow-1');
  assert.equal(new Set(state.liveAllocs('grow').map((a) => a.NodeID)).size, 2);
  // The third allocation goes to the one node without one, although bin packing favours the fuller ones.
  await run({ ...job, TaskGroups: [testGroup({ Count: 3, Tasks: small() })] }, 'grow-2');
  const nodes = state.liveAllocs('grow').map((a) => a.NodeID);
  assert.equal(nodes.length, 3);
  assert.equal(new Set(nodes).size, 3);
});

void test('service placements look at about log2(n) nodes, batch at 2, not at every node', async () => {
  const state = cluster(Array.from({ length: 1024 }, (_, i) => testNode(`n${i}`)));
  await place(state, testJob({ ID: 'svc', TaskGroups: [testGroup({ Count: 1, Tasks: small() })] }));
  assert.equal(state.liveAllocs('svc')[0]!.Metrics!.NodesEvaluated, 10);
  await place(state, testJob({ ID: 'bat', Type: 'batch', TaskGroups: [testGroup({ Count: 1, Tasks: small() })] }));
  assert.equal(state.liveAllocs('bat')[0]!.Metrics!.NodesEvaluated, 2);
});

void test('feasibility is decided once per node class, unless a constraint reads unique attributes', async () => {
  const nodes = Array.from({ length: 6 }, (_, i) => testNode(`n${i}`, { NodeClass: i < 3 ? 'gpu' : 'cpu', Meta: { kind: i < 3 ? 'gpu' : 'cpu' } }));
  const state = cluster(nodes);
  const job = testJob({ ID: 'cls', Constraints: [{ LTarget: '${meta.kind}', RTarget: 'tpu', Operand: '=' }], TaskGroups: [testGroup({ Tasks: small() })] });
  state.putJob(job);
  const planner = new RecordingPlanner(state);
  await new GenericScheduler(state, planner, testContext(1)).process(testEval(job, { ID: 'rank-cls' }));
  const ev = planner.evals.at(-1)!;
  assert.deepEqual(ev.FailedTGAllocs?.['web']?.ClassFiltered, { gpu: 3, cpu: 3 });
  const blocked = planner.created.find((e) => e.ID === ev.BlockedEval)!;
  const classes = Object.entries(blocked.ClassEligibility ?? {});
  assert.equal(classes.length, 2, 'two computed classes were judged');
  assert.ok(classes.every(([, ok]) => !ok));
  assert.equal(blocked.EscapedComputedClass, false);
  const escaped = testJob({ ID: 'esc', Constraints: [{ LTarget: '${node.unique.name}', RTarget: 'node-n4', Operand: '=' }], TaskGroups: [testGroup({ Tasks: small() })] });
  await place(state, escaped);
  assert.equal(state.liveAllocs('esc')[0]!.NodeID, 'n4', 'a unique-attribute constraint is checked per node, not per class');
});

void test('the spread scheduler algorithm (worst fit) prefers the emptiest node', async () => {
  const state = cluster([testNode('a'), testNode('b'), testNode('c')]);
  const big = [testTask({ Resources: { CPU: 1000, Cores: 0, MemoryMB: 2048, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })];
  await place(state, testJob({ ID: 'first', TaskGroups: [testGroup({ Tasks: big })] }));
  const busy = state.liveAllocs('first')[0]!.NodeID;
  await place(state, testJob({ ID: 'packed', TaskGroups: [testGroup({ Tasks: small() })] }));
  assert.equal(state.liveAllocs('packed')[0]!.NodeID, busy, 'binpack (the default) joins the busy node');
  state.algorithm = 'spread';
  await place(state, testJob({ ID: 'spread', TaskGroups: [testGroup({ Tasks: small() })] }));
  assert.notEqual(state.liveAllocs('spread')[0]!.NodeID, busy, 'spread avoids it');
});
