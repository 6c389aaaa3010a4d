import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Allocation } from '../structs/alloc.js';
import type { Job, UpdateStrategy } from '../structs/job.js';
import { defaultUpdateStrategy } from '../structs/job-defaults.js';
import { GenericScheduler } from './generic-scheduler.js';
import { ALLOC_UPDATING } from './reconcile.js';
import { SystemScheduler } from './system-scheduler.js';
import { testEval, testGroup, testJob, testNode, testTask } from './testing/fixtures.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';

const ctx = testContext(3);
let seq = 0;

const update = (maxParallel: number): UpdateStrategy => ({ ...defaultUpdateStrategy(), MaxParallel: maxParallel });

function version(job: Job, n: number, command: string): Job {
  const tg = job.TaskGroups[0]!;
  return {
    ...job,
    Version: n,
    JobModifyIndex: 100 + n,
    TaskGroups: [{ ...tg, Tasks: [testTask({ Name: tg.Tasks[0]!.Name, Config: { command } })] }],
  };
}

function setup(nodes = 3) {
  const state = new MemState();
  for (let i = 0; i < nodes; i++) state.putNode(testNode(`n${i}`));
  return { state, planner: new RecordingPlanner(state) };
}

async function evaluate(state: MemState, planner: RecordingPlanner, job: Job) {
  state.putJob(job);
  const sched = job.Type === 'system' ? new SystemScheduler(state, planner, ctx) : new GenericScheduler(state, planner, ctx);
  await sched.process(testEval(job, { ID: `roll-${++seq}`, JobModifyIndex: job.JobModifyIndex }));
  return planner.evals.at(-1)!;
}

/** The client's report: running and, when `healthy` is given, judged for the deployment. */
function report(state: MemState, a: Allocation, healthy?: boolean): void {
  state.putAlloc({
    ...a,
    ClientStatus: 'running',
    DeploymentStatus: healthy === undefined ? null : { Healthy: healthy, Timestamp: '2026-01-01T00:00:00Z', Canary: false, ModifyIndex: 0 },
  });
}

const live = (state: MemState, jobId: string) => state.liveAllocs(jobId);
const ofVersion = (state: MemState, jobId: string, v: number) => live(state, jobId).filter((a) => a.Job.Version === v);

void test('a destructive update replaces at most max_parallel allocations until the new ones are healthy', async () => {
  const { state, planner } = setup();
  const v0 = version(testJob({ ID: 'web', Update: update(2), TaskGroups: [testGroup({ Count: 5, Update: update(2) })] }), 0, '/bin/a');
  await evaluate(state, planner, v0);
  for (const a of live(state, 'web')) report(state, a, true);

  const v1 = version(v0, 1, '/bin/b');
  const ev = await evaluate(state, planner, v1);
  assert.equal(ev.FailedTGAllocs, null);
  assert.equal(ofVersion(state, 'web', 1).length, 2, 'two replaced');
  assert.equal(ofVersion(state, 'web', 0).length, 3, 'three left for later');
  const stopped = [...state.allocMap.values()].filter((a) => a.DesiredStatus === 'stop');
  assert.equal(stopped.length, 2);
  assert.ok(stopped.every((a) => a.DesiredDescription === ALLOC_UPDATING));

  // Running but not yet judged healthy, or judged unhealthy: nothing more moves.
  const [first, second] = ofVersion(state, 'web', 1);
  report(state, first!);
  report(state, second!, false);
  await evaluate(state, planner, v1);
  assert.equal(ofVersion(state, 'web', 0).length, 3);

  // One turns healthy: one more may go.
  report(state, first!, true);
  await evaluate(state, planner, v1);
  assert.equal(ofVersion(state, 'web', 1).length, 3);
  assert.equal(ofVersion(state, 'web', 0).length, 2);

  // All healthy: the rest, two at a time.
  for (let round = 0; round < 3 && ofVersion(state, 'web', 0).length > 0; round++) {
    for (const a of ofVersion(state, 'web', 1)) report(state, a, true);
    await evaluate(state, planner, v1);
  }
  assert.equal(ofVersion(state, 'web', 1).length, 5);
  assert.equal(ofVersion(state, 'web', 0).length, 0);
  assert.equal(live(state, 'web').length, 5, 'the count never dropped or overshot');
});

void test('max_parallel 0, no update block, and batch jobs replace everything at once', async () => {
  for (const [label, over] of [
    ['max_parallel = 0', { Update: update(0) }],
    ['no update strategy', {}],
    ['batch job', { Type: 'batch' as const, Update: update(1) }],
  ] as const) {
    const { state, planner } = setup();
    const groupUpdate = 'Update' in over ? { Update: over.Update } : {};
    const v0 = version(testJob({ ID: 'all', ...over, TaskGroups: [testGroup({ Count: 4, ...groupUpdate })] }), 0, '/bin/a');
    await evaluate(state, planner, v0);
    for (const a of live(state, 'all')) report(state, a, true);
    await evaluate(state, planner, version(v0, 1, '/bin/b'));
    assert.equal(ofVersion(state, 'all', 1).length, 4, label);
  }
});

void test('a system job rolls out to max_parallel nodes at a time', async () => {
  const { state, planner } = setup(4);
  const v0 = version(testJob({ ID: 'sys', Type: 'system', Update: update(1), TaskGroups: [testGroup({ Update: update(1) })] }), 0, '/bin/a');
  await evaluate(state, planner, v0);
  assert.equal(live(state, 'sys').length, 4);
  for (const a of live(state, 'sys')) report(state, a, true);
  const v1 = version(v0, 1, '/bin/b');
  await evaluate(state, planner, v1);
  assert.equal(ofVersion(state, 'sys', 1).length, 1);
  await evaluate(state, planner, v1);
  assert.equal(ofVersion(state, 'sys', 1).length, 1, 'waits for the new one to be healthy');
  for (let round = 0; round < 4 && ofVersion(state, 'sys', 0).length > 0; round++) {
    for (const a of ofVersion(state, 'sys', 1)) report(state, a, true);
    await evaluate(state, planner, v1);
  }
  assert.equal(ofVersion(state, 'sys', 1).length, 4);
  assert.equal(new Set(live(state, 'sys').map((a) => a.NodeID)).size, 4, 'still one per node');
});
