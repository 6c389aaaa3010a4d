/**
 * Properties that must hold for any cluster and job (seeded random cases, reproducible by seed):
 * no node is ever over-committed in any dimension or port, placements land only on feasible
 * nodes, counts are met whenever capacity allows, and system jobs run on exactly the feasible nodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenericScheduler } from './generic-scheduler.js';
import { SystemScheduler } from './system-scheduler.js';
import { nodeCapacity, nodeUsage } from './bin-pack.js';
import { checkFeasible } from './feasibility.js';
import { portCollision } from './ports.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';
import { testEval, testGroup, testJob, testNode, testTask } from './testing/fixtures.js';
import type { Job } from '../structs/job.js';

const CASES = 40;

function randomCase(seed: number) {
  const seeded = testContext(seed);
  const rng = () => seeded.random();
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const state = new MemState();
  const nodeCount = int(1, 12);
  for (let i = 0; i < nodeCount; i++) {
    state.putNode(testNode(`n${i}`, { Meta: { rack: `r${int(0, 2)}` } }, int(1, 8) * 1000, int(1, 8) * 1024));
  }
  const jobs: Job[] = [];
  const jobCount = int(1, 4);
  for (let j = 0; j < jobCount; j++) {
    const withPort = rng() < 0.3;
    const job = testJob({
      ID: `job${j}`,
      Constraints: rng() < 0.4 ? [{ LTarget: '${meta.rack}', RTarget: `r${int(0, 2)}`, Operand: '!=' }] : [],
      Spreads: rng() < 0.3 ? [{ Attribute: '${meta.rack}', Weight: 50, SpreadTarget: [] }] : [],
      TaskGroups: [
        testGroup({
          Count: int(1, 10),
          Tasks: [testTask({ Resources: { CPU: int(1, 20) * 100, Cores: 0, MemoryMB: int(1, 16) * 128, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })],
          Networks: withPort ? [{ Mode: 'host', Device: '', CIDR: '', IP: '', MBits: 0, ReservedPorts: [{ Label: 'p', Value: 9000, To: 0, HostNetwork: 'default' }], DynamicPorts: [] }] : [],
        }),
      ],
    });
    jobs.push(job);
  }
  return { state, jobs };
}

void test('property: no over-commitment, only feasible nodes, counts met when capacity allows', async () => {
  for (let seed = 1; seed <= CASES; seed++) {
    const { state, jobs } = randomCase(seed);
    const planner = new RecordingPlanner(state);
    for (const job of jobs) {
      state.putJob(job);
      await new GenericScheduler(state, planner, testContext(seed)).process(testEval(job, { ID: `p-${seed}-${job.ID}` }));
      const ev = planner.evals.at(-1)!;
      const live = state.liveAllocs(job.ID);
      for (const a of live) assert.ok(checkFeasible(job, job.TaskGroups[0]!, state.nodeById(a.NodeID)!).ok, `seed ${seed}: ${a.Name} on an infeasible node`);
      // Either every allocation was placed, or the evaluation says why not.
      if (live.length < job.TaskGroups[0]!.Count) assert.ok(ev.FailedTGAllocs?.['web'], `seed ${seed}: ${job.ID} short without a failure report`);
      else assert.equal(ev.FailedTGAllocs, null);
    }
    for (const node of state.nodes()) {
      const allocs = state.allocsByNode(node.ID);
      const used = nodeUsage(allocs);
      const cap = nodeCapacity(node);
      assert.ok(used.cpu <= cap.cpu && used.memoryMB <= cap.memoryMB && used.diskMB <= cap.diskMB, `seed ${seed}: ${node.ID} over-committed`);
      assert.equal(portCollision(node, allocs), null, `seed ${seed}: port collision on ${node.ID}`);
    }
  }
});

void test('property: a job that fits on an empty cluster is placed in full', async () => {
  for (let seed = 100; seed < 100 + CASES; seed++) {
    const { state, jobs } = randomCase(seed);
    const job = jobs[0]!;
    const tg = job.TaskGroups[0]!;
    const t = tg.Tasks[0]!.Resources;
    // Capacity check by hand: how many copies each feasible node could take alone.
    let room = 0;
    for (const n of state.nodes()) {
      if (!checkFeasible(job, tg, n).ok) continue;
      const cap = nodeCapacity(n);
      const byRes = Math.min(Math.floor(cap.cpu / t.CPU), Math.floor(cap.memoryMB / t.MemoryMB), Math.floor(cap.diskMB / (tg.EphemeralDisk?.SizeMB ?? 1)));
      room += tg.Networks.length > 0 ? Math.min(1, byRes) : byRes;
    }
    state.putJob(job);
    const planner = new RecordingPlanner(state);
    await new GenericScheduler(state, planner, testContext(seed)).process(testEval(job, { ID: `q-${seed}` }));
    assert.equal(state.liveAllocs(job.ID).length, Math.min(tg.Count, room), `seed ${seed}`);
  }
});

void test('property: a system job runs on exactly the feasible nodes that have room', async () => {
  for (let seed = 200; seed < 200 + CASES; seed++) {
    const { state, jobs } = randomCase(seed);
    const job = { ...jobs[0]!, ID: 'sys', Type: 'system' as const };
    const tg = job.TaskGroups[0]!;
    const t = tg.Tasks[0]!.Resources;
    const expected = state
      .nodes()
      .filter((n) => {
        const cap = nodeCapacity(n);
        return checkFeasible(job, tg, n).ok && cap.cpu >= t.CPU && cap.memoryMB >= t.MemoryMB;
      })
      .map((n) => n.ID)
      .sort();
    state.putJob(job);
    const planner = new RecordingPlanner(state);
    await new SystemScheduler(state, planner, testContext(seed)).process(testEval(job, { ID: `s-${seed}` }));
    assert.deepEqual(state.liveAllocs('sys').map((a) => a.NodeID).sort(), expected, `seed ${seed}`);
  }
});
