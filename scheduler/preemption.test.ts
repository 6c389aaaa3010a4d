import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Allocation } from '../structs/alloc.js';
import type { Job } from '../structs/job.js';
import { GenericScheduler } from './generic-scheduler.js';
import { selectPreemptions } from './preemption.js';
import { SystemScheduler } from './system-scheduler.js';
import { testAlloc, testEval, testGroup, testJob, testNode, testTask } from './testing/fixtures.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';

const ctx = testContext(11);
let seq = 0;

const task = (cpu: number, mem: number) => testTask({ Resources: { CPU: cpu, Cores: 0, MemoryMB: mem, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } });
const noDisk = { Sticky: false, SizeMB: 0, Migrate: false };

/** A running allocation of a job with the given priority and size, for the unit tests. */
function running(id: string, priority: number, cpu: number, mem: number): Allocation {
  const job = testJob({ ID: `job-${id}`, Priority: priority });
  return testAlloc(job, {
    ID: id,
    EvalID: '',
    Name: `${job.ID}.web[0]`,
    NodeID: 'n1',
    NodeName: 'node-n1',
    TaskGroup: 'web',
    AllocatedResources: {
      Tasks: { web: { Cpu: { CpuShares: cpu, ReservedCores: [] }, Memory: { MemoryMB: mem, MemoryMaxMB: 0 }, Networks: [], Devices: [] } },
      Shared: { DiskMB: 0, Networks: [], Ports: [] },
    },
    ClientStatus: 'running',
  });
}

const ids = (l: Allocation[] | null) => (l === null ? null : l.map((a) => a.ID).sort());

void test('preemption takes the lowest priorities first and never a job less than 10 levels below', () => {
  const allocs = [running('p45', 45, 1000, 1000), running('p20a', 20, 1000, 1000), running('p30', 30, 1000, 1000), running('p20b', 20, 1000, 1000)];
  const free = { cpu: 0, memoryMB: 4000, diskMB: 1000 };
  assert.deepEqual(ids(selectPreemptions(free, { cpu: 2000, memoryMB: 100, diskMB: 0 }, allocs, 50)), ['p20a', 'p20b']);
  assert.deepEqual(ids(selectPreemptions(free, { cpu: 3000, memoryMB: 100, diskMB: 0 }, allocs, 50)), ['p20a', 'p20b', 'p30']);
  assert.equal(selectPreemptions(free, { cpu: 4000, memoryMB: 100, diskMB: 0 }, allocs, 50), null, 'priority 45 is within 10 of 50: not preemptible');
  assert.equal(selectPreemptions(free, { cpu: 500, memoryMB: 0, diskMB: 0 }, allocs, 25), null, 'no allocation runs at priority 15 or lower');
});

void test('preemption evicts one right-sized allocation rather than several small ones, and gives back what is not needed', () => {
  const allocs = [running('small1', 20, 500, 500), running('small2', 20, 500, 500), running('small3', 20, 500, 500), running('big', 20, 1500, 1500)];
  const free = { cpu: 0, memoryMB: 0, diskMB: 1000 };
  assert.deepEqual(ids(selectPreemptions(free, { cpu: 1500, memoryMB: 1500, diskMB: 0 }, allocs, 60)), ['big']);
  // A lower priority one that alone is too small is taken first, then found unnecessary once a larger one is needed anyway.
  const mixed = [running('tiny', 10, 200, 200), running('large', 30, 2000, 2000)];
  assert.deepEqual(ids(selectPreemptions(free, { cpu: 1500, memoryMB: 1500, diskMB: 0 }, mixed, 60)), ['large']);
});

function full(): { state: MemState; planner: RecordingPlanner } {
  const state = new MemState();
  state.putNode(testNode('n1', {}, 4000, 8192));
  state.putNode(testNode('n2', {}, 4000, 8192));
  return { state, planner: new RecordingPlanner(state) };
}

async function placeService(state: MemState, planner: RecordingPlanner, id: string, priority: number, count: number): Promise<Job> {
  const job = testJob({ ID: id, Priority: priority, TaskGroups: [testGroup({ Count: count, Tasks: [task(1000, 2048)], EphemeralDisk: noDisk })] });
  state.putJob(job);
  await new GenericScheduler(state, planner, ctx).process(testEval(job, { ID: `pre-${++seq}` }));
  for (const a of state.liveAllocs(id)) state.putAlloc({ ...a, ClientStatus: 'running' });
  return job;
}

const systemJob = (priority: number, type: 'system' | 'sysbatch' = 'system') =>
  testJob({ ID: 'monitor', Type: type, Priority: priority, TaskGroups: [testGroup({ Name: 'agent', Tasks: [task(1500, 1024)], EphemeralDisk: noDisk })] });

async function runSystem(state: MemState, planner: RecordingPlanner, job: Job) {
  state.putJob(job);
  await new SystemScheduler(state, planner, ctx).process(testEval(job, { ID: `pre-${++seq}` }));
  return planner.evals.at(-1)!;
}

void test('a system job preempts lower-priority allocations on full nodes; the plan carries NodePreemptions', async () => {
  const { state, planner } = full();
  await placeService(state, planner, 'low', 20, 6);
  await placeService(state, planner, 'mid', 45, 2);
  assert.equal(state.liveAllocs('low').length + state.liveAllocs('mid').length, 8, 'both nodes are full');
  const ev = await runSystem(state, planner, systemJob(50));
  assert.equal(ev.FailedTGAllocs, null);
  const placed = state.liveAllocs('monitor');
  assert.deepEqual(placed.map((a) => a.NodeID).sort(), ['n1', 'n2']);

  const plan = planner.plans.at(-1)!;
  for (const node of ['n1', 'n2']) {
    const evicted = plan.NodePreemptions[node] ?? [];
    const mine = placed.find((a) => a.NodeID === node)!;
    assert.equal(evicted.length, 2, `1500 MHz needs two 1000 MHz allocations evicted on ${node}`);
    for (const v of evicted) {
      assert.equal(v.JobID, 'low', 'priority 45 is within 10 of 50 and is left alone');
      assert.equal(v.DesiredStatus, 'evict');
      assert.equal(v.DesiredDescription, `Preempted by alloc ID ${mine.ID}`);
      assert.equal(state.allocMap.get(v.ID)!.DesiredStatus, 'evict');
    }
  }
  assert.equal(state.liveAllocs('low').length, 2);
  assert.equal(state.liveAllocs('mid').length, 2);
});

void test('no preemption when priorities are too close, when turned off, or for sysbatch by default', async () => {
  for (const [label, priority, type, configure] of [
    ['priority delta below 10', 29, 'system', () => {}],
    ['turned off in the scheduler configuration', 80, 'system', (s: MemState) => (s.preemption = { SystemSchedulerEnabled: false })],
    ['sysbatch (off by default)', 80, 'sysbatch', () => {}],
  ] as const) {
    const { state, planner } = full();
    configure(state);
    await placeService(state, planner, 'low', 20, 8);
    const ev = await runSystem(state, planner, systemJob(priority, type));
    assert.equal(state.liveAllocs('monitor').length, 0, label);
    assert.equal(state.liveAllocs('low').length, 8, label);
    assert.deepEqual(ev.FailedTGAllocs?.['agent']?.DimensionExhausted, { cpu: 2 }, label);
  }
});
