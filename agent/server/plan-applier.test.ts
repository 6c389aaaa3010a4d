import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from './state/state-store.js';
import { Fsm } from './fsm.js';
import { encodeCommand, type FsmCommand } from './fsm-commands.js';
import { PlanApplier, type RaftApplyFn } from './plan-applier.js';
import { testAlloc, testEval, testJob, testNode } from '../../scheduler/testing/fixtures.js';
import type { Allocation } from '../../structs/alloc.js';
import { emptyPlan, type Plan } from '../../structs/plan.js';
import type { Job } from '../../structs/job.js';

type Apply = (c: FsmCommand) => { index: number };

/**
 * A real LMDB state and FSM; the applier's Raft is the FSM applied in order, at once unless
 * `raft` says how (a test that holds commits back).
 */
async function withApplier(
  fn: (h: { state: StateStore; applier: PlanApplier; apply: Apply }) => Promise<void>,
  raft: (apply: Apply) => RaftApplyFn = (apply) => (cmd) => Promise.resolve(apply(cmd)),
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-plan-applier-'));
  const state = StateStore.open(dir);
  const fsm = new Fsm(state);
  let index = 0;
  const apply = (cmd: FsmCommand): { index: number } => {
    fsm.apply({ index: ++index, term: 1, data: encodeCommand(cmd) });
    return { index };
  };
  const applier = new PlanApplier(state, raft(apply), () => 1);
  try {
    await fn({ state, applier, apply });
  } finally {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function sized(job: Job, id: string, nodeId: string, cpu: number, extra: Partial<Allocation> = {}): Allocation {
  const task = { Cpu: { CpuShares: cpu, ReservedCores: [] }, Memory: { MemoryMB: 100, MemoryMaxMB: 0 }, Networks: [], Devices: [] };
  return testAlloc(job, { ID: id, NodeID: nodeId, Name: `${job.ID}.web[${id}]`, AllocatedResources: { Tasks: { web: task }, Shared: { DiskMB: 0, Networks: [], Ports: [] } }, ...extra });
}

function withPort(a: Allocation, port: number): Allocation {
  return { ...a, AllocatedResources: { ...a.AllocatedResources, Shared: { ...a.AllocatedResources.Shared, Ports: [{ Label: 'http', Value: port, To: 0, HostIP: '127.0.0.1' }] } } };
}

function planOf(job: Job, placements: Allocation[], over: Partial<Plan> = {}): Plan {
  const p = emptyPlan('eval-1', 50, job, 0);
  for (const a of placements) (p.NodeAllocation[a.NodeID] ??= []).push(a);
  return { ...p, ...over };
}

const job = testJob({ ID: 'web', Name: 'web' });

void test('a node the plan would over-commit is refused, the rest is committed, and the scheduler is told to refresh', () =>
  withApplier(async ({ state, applier, apply }) => {
    apply({ type: 'NodeRegister', node: testNode('n1', {}, 1000), now: 1 });
    apply({ type: 'NodeRegister', node: testNode('n2', {}, 1000), now: 1 });
    apply({ type: 'JobRegister', job, eval: null, now: 1 });
    // Another plan already took 700 MHz on n1.
    await applier.apply(planOf(job, [sized(job, 'old', 'n1', 700)]));

    const r = await applier.apply(planOf(job, [sized(job, 'a', 'n1', 400), sized(job, 'b', 'n2', 400)]));
    assert.deepEqual(Object.keys(r.NodeAllocation), ['n2']);
    assert.ok(r.RefreshIndex > 0, 'a refused node asks the scheduler to refresh');
    assert.equal(state.allocById('a'), null);
    assert.equal(state.allocById('b')?.NodeID, 'n2');
    assert.deepEqual(state.allocsByNode('n1').map((a) => a.ID), ['old']);
  }));

void test('all_at_once: one refused node refuses the whole plan', () =>
  withApplier(async ({ state, applier, apply }) => {
    apply({ type: 'NodeRegister', node: testNode('n1', {}, 1000), now: 1 });
    apply({ type: 'NodeRegister', node: testNode('n2', {}, 1000), now: 1 });
    apply({ type: 'JobRegister', job, eval: null, now: 1 });
    const r = await applier.apply(planOf(job, [sized(job, 'a', 'n1', 1200), sized(job, 'b', 'n2', 400)], { AllAtOnce: true }));
    assert.deepEqual(r.NodeAllocation, {});
    assert.ok(r.RefreshIndex > 0);
    assert.equal(state.allocById('b'), null);
  }));

void test('room freed by the same plan counts: a stop makes space for its replacement', () =>
  withApplier(async ({ state, applier, apply }) => {
    apply({ type: 'NodeRegister', node: testNode('n1', {}, 1000), now: 1 });
    apply({ type: 'JobRegister', job, eval: null, now: 1 });
    await applier.apply(planOf(job, [sized(job, 'old', 'n1', 800)]));
    const stop = { ...state.allocById('old')!, DesiredStatus: 'stop' as const, DesiredDescription: 'alloc is being updated due to job update' };
    const r = await applier.apply(planOf(job, [sized(job, 'new', 'n1', 800)], { NodeUpdate: { n1: [stop] } }));
    assert.deepEqual(Object.keys(r.NodeAllocation), ['n1']);
    assert.equal(state.allocById('old')?.DesiredStatus, 'stop');
    assert.equal(state.allocById('new')?.DesiredStatus, 'run');
  }));

void test('two plans built on one snapshot that pick the same host port: the second is refused on that node', () =>
  withApplier(async ({ state, applier, apply }) => {
    apply({ type: 'NodeRegister', node: testNode('n1'), now: 1 });
    apply({ type: 'JobRegister', job, eval: null, now: 1 });
    await applier.apply(planOf(job, [withPort(sized(job, 'a', 'n1', 100), 25000)]));
    const r = await applier.apply(planOf(job, [withPort(sized(job, 'b', 'n1', 100), 25000)]));
    assert.deepEqual(r.NodeAllocation, {});
    assert.equal(state.allocById('b'), null);
    // A different port fits.
    const ok = await applier.apply(planOf(job, [withPort(sized(job, 'c', 'n1', 100), 25001)]));
    assert.deepEqual(Object.keys(ok.NodeAllocation), ['n1']);
  }));

void test('new placements only on ready, eligible nodes; a draining or down node is refused', () =>
  withApplier(async ({ state, applier, apply }) => {
    apply({ type: 'NodeRegister', node: testNode('n1', { SchedulingEligibility: 'ineligible' }), now: 1 });
    apply({ type: 'NodeRegister', node: testNode('n2', { Status: 'down' }), now: 1 });
    apply({ type: 'JobRegister', job, eval: null, now: 1 });
    const r = await applier.apply(planOf(job, [sized(job, 'a', 'n1', 100), sized(job, 'b', 'n2', 100), sized(job, 'c', 'gone', 100)]));
    assert.deepEqual(r.NodeAllocation, {});
    assert.deepEqual(state.allocs(), []);
  }));

void test('plans are checked while earlier ones commit, and placements still in flight count against their nodes', () => {
  // A Raft whose commits wait until the test lets them through, in order.
  const held: Array<() => void> = [];
  const proposedCount = async (n: number): Promise<void> => {
    for (let i = 0; i < 100 && held.length < n; i++) await new Promise((r) => setImmediate(r));
    assert.equal(held.length, n, `${n} plan(s) proposed`);
  };
  return withApplier(
    async ({ state, applier, apply }) => {
      apply({ type: 'NodeRegister', node: testNode('n1', {}, 1000), now: 1 });
      apply({ type: 'NodeRegister', node: testNode('n2', {}, 1000), now: 1 });
      apply({ type: 'JobRegister', job, eval: null, now: 1 });
      const first = applier.apply(planOf(job, [sized(job, 'a', 'n1', 700)]));
      await proposedCount(1);
      // Checked and proposed before the first plan is applied: n2 has room either way.
      const second = applier.apply(planOf(job, [sized(job, 'b', 'n2', 700)]));
      await proposedCount(2);
      assert.equal(state.allocById('a'), null, 'the first plan is still in flight');
      // 700 MHz of n1 is taken by a placement not yet applied: this one must wait for it and be refused.
      const third = applier.apply(planOf(job, [sized(job, 'c', 'n1', 400)]));
      await new Promise((r) => setImmediate(r));
      assert.equal(held.length, 2, 'a plan that does not fit next to one in flight is not proposed');
      held.shift()!();
      held.shift()!();
      const [r1, r2, r3] = await Promise.all([first, second, third]);
      assert.deepEqual(Object.keys(r1.NodeAllocation), ['n1']);
      assert.deepEqual(Object.keys(r2.NodeAllocation), ['n2']);
      assert.deepEqual(r3.NodeAllocation, {});
      assert.ok(r3.RefreshIndex >= r2.AllocIndex, 'the refresh index covers the plans that were in flight');
      assert.deepEqual(state.allocsByNode('n1').map((a) => a.ID), ['a']);
    },
    (apply) => (cmd) => new Promise((resolve) => held.push(() => resolve(apply(cmd)))),
  );
});

void test("a plan's evaluation update commits in the plan's entry when all of it fits, and is left to the scheduler otherwise", () =>
  withApplier(async ({ state, applier, apply }) => {
    apply({ type: 'NodeRegister', node: testNode('n1', {}, 1000), now: 1 });
    apply({ type: 'JobRegister', job, eval: null, now: 1 });
    const done = { ...testEval(job), ID: 'ev-ok', Status: 'complete' as const };
    const ok = await applier.apply({ ...planOf(job, [sized(job, 'a', 'n1', 400)]), EvalID: done.ID, EvalUpdate: done });
    assert.equal(ok.EvalUpdated, true);
    const stored = state.evalById('ev-ok');
    assert.equal(stored?.Status, 'complete');
    assert.equal(stored?.ModifyIndex, ok.AllocIndex, 'committed in the same entry as the allocations');

    const refusedEval = { ...testEval(job), ID: 'ev-refused', Status: 'complete' as const };
    const partial = await applier.apply({ ...planOf(job, [sized(job, 'b', 'n1', 900)]), EvalID: refusedEval.ID, EvalUpdate: refusedEval });
    assert.ok(partial.RefreshIndex > 0);
    assert.notEqual(partial.EvalUpdated, true);
    assert.equal(state.evalById('ev-refused'), null, 'a plan refused in part does not end its evaluation');
  }));
