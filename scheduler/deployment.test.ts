/**
 * Deployments in the scheduler (Nomad's reconciler): a new version of a service job with an
 * update strategy gets a deployment that its placements carry; an older active one is
 * cancelled; a paused or failed one makes no destructive updates; canaries run beside the old
 * version until the deployment is promoted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Allocation } from '../structs/alloc.js';
import { DeploymentDescription, type Deployment } from '../structs/deployment.js';
import type { Job, UpdateStrategy } from '../structs/job.js';
import { defaultUpdateStrategy } from '../structs/job-defaults.js';
import { GenericScheduler } from './generic-scheduler.js';
import { testEval, testGroup, testJob, testNode, testTask } from './testing/fixtures.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';

let seq = 0;
const update = (over: Partial<UpdateStrategy> = {}): UpdateStrategy => ({ ...defaultUpdateStrategy(), MaxParallel: 1, ...over });

function version(job: Job, n: number, command: string): Job {
  const tg = job.TaskGroups[0]!;
  return { ...job, Version: n, JobModifyIndex: 100 + n, TaskGroups: [{ ...tg, Tasks: [testTask({ Name: tg.Tasks[0]!.Name, Config: { command } })] }] };
}

function setup() {
  const state = new MemState();
  for (let i = 0; i < 4; i++) state.putNode(testNode(`n${i}`));
  return { state, planner: new RecordingPlanner(state), ctx: testContext(7) };
}

async function evaluate(s: ReturnType<typeof setup>, job: Job): Promise<void> {
  s.state.putJob(job);
  await new GenericScheduler(s.state, s.planner, s.ctx).process(testEval(job, { ID: `dep-${++seq}`, JobModifyIndex: job.JobModifyIndex }));
}

function healthy(state: MemState, a: Allocation, ok = true): void {
  state.putAlloc({ ...a, ClientStatus: 'running', DeploymentStatus: { Healthy: ok, Timestamp: '2026-01-01T00:00:00Z', Canary: a.DeploymentStatus?.Canary === true, ModifyIndex: 0 } });
}

const live = (state: MemState): Allocation[] => state.liveAllocs('web');
const ofVersion = (state: MemState, v: number): Allocation[] => live(state).filter((a) => a.Job.Version === v);
const latest = (state: MemState): Deployment => state.latestDeploymentByJob('default', 'web')!;

function webJob(count: number, u: UpdateStrategy): Job {
  return version(testJob({ ID: 'web', Update: u, TaskGroups: [testGroup({ Count: count, Update: u })] }), 0, '/bin/a');
}

void test('the first version and each changed version get a deployment; placements carry its ID', async () => {
  const s = setup();
  const v0 = webJob(3, update({ MaxParallel: 2 }));
  await evaluate(s, v0);
  const d0 = latest(s.state);
  assert.equal(d0.JobVersion, 0);
  assert.equal(d0.Status, 'running');
  assert.equal(d0.StatusDescription, DeploymentDescription.Running);
  assert.equal(d0.TaskGroups['web']!.DesiredTotal, 3);
  assert.ok(live(s.state).every((a) => a.DeploymentID === d0.ID));
  for (const a of live(s.state)) healthy(s.state, a);
  s.state.putDeployment({ ...d0, Status: 'successful' });

  // Re-evaluating the same version creates nothing new.
  await evaluate(s, v0);
  assert.equal(latest(s.state).ID, d0.ID);

  const v1 = version(v0, 1, '/bin/b');
  await evaluate(s, v1);
  const d1 = latest(s.state);
  assert.notEqual(d1.ID, d0.ID);
  assert.equal(d1.JobVersion, 1);
  assert.equal(ofVersion(s.state, 1).length, 2, 'max_parallel 2');
  assert.ok(ofVersion(s.state, 1).every((a) => a.DeploymentID === d1.ID));
});

void test('a newer version cancels the active deployment of the older one; stopping the job cancels it too', async () => {
  const s = setup();
  const v0 = webJob(2, update());
  await evaluate(s, v0);
  const d0 = latest(s.state);
  await evaluate(s, version(v0, 1, '/bin/b'));
  assert.equal(s.state.deployments.get(d0.ID)!.Status, 'cancelled');
  assert.equal(s.state.deployments.get(d0.ID)!.StatusDescription, DeploymentDescription.NewerJob);
  const d1 = latest(s.state);
  assert.equal(d1.Status, 'running');
  await evaluate(s, { ...version(v0, 2, '/bin/b'), Stop: true });
  assert.equal(s.state.deployments.get(d1.ID)!.Status, 'cancelled');
  assert.equal(s.state.deployments.get(d1.ID)!.StatusDescription, DeploymentDescription.StoppedJob);
});

void test('a paused or failed deployment makes no destructive updates; resumed, the rollout goes on', async () => {
  for (const held of ['paused', 'failed'] as const) {
    const s = setup();
    const v0 = webJob(3, update());
    await evaluate(s, v0);
    for (const a of live(s.state)) healthy(s.state, a);
    s.state.putDeployment({ ...latest(s.state), Status: 'successful' });
    const v1 = version(v0, 1, '/bin/b');
    await evaluate(s, v1);
    assert.equal(ofVersion(s.state, 1).length, 1);
    const d1 = latest(s.state);
    s.state.putDeployment({ ...d1, Status: held });
    for (const a of ofVersion(s.state, 1)) healthy(s.state, a);
    await evaluate(s, v1);
    assert.equal(ofVersion(s.state, 1).length, 1, `${held}: nothing more replaced`);
    if (held === 'paused') {
      s.state.putDeployment({ ...d1, Status: 'running' });
      await evaluate(s, v1);
      assert.equal(ofVersion(s.state, 1).length, 2, 'resumed: the next one goes');
    }
  }
});

void test('canaries run beside the old version until promoted, then the rest rolls and the old ones stop', async () => {
  const s = setup();
  const v0 = webJob(3, update({ Canary: 1, MaxParallel: 1 }));
  await evaluate(s, v0);
  for (const a of live(s.state)) healthy(s.state, a);
  s.state.putDeployment({ ...latest(s.state), Status: 'successful' });

  const v1 = version(v0, 1, '/bin/b');
  await evaluate(s, v1);
  const d1 = latest(s.state);
  assert.equal(d1.TaskGroups['web']!.DesiredCanaries, 1);
  assert.equal(d1.StatusDescription, DeploymentDescription.RunningNeedsPromotion);
  assert.equal(ofVersion(s.state, 0).length, 3, 'the old version keeps running');
  const [canary] = ofVersion(s.state, 1);
  assert.ok(canary);
  assert.equal(canary.DeploymentStatus?.Canary, true);

  // Healthy but not promoted: nothing more happens.
  healthy(s.state, canary);
  await evaluate(s, v1);
  assert.equal(ofVersion(s.state, 1).length, 1);
  assert.equal(ofVersion(s.state, 0).length, 3);

  // Promoted: the canary takes its index over, and the others are replaced one at a time.
  s.state.putDeployment({ ...d1, TaskGroups: { web: { ...d1.TaskGroups['web']!, Promoted: true, PlacedCanaries: [canary.ID] } } });
  for (let round = 0; round < 5 && ofVersion(s.state, 0).length > 0; round++) {
    await evaluate(s, v1);
    for (const a of ofVersion(s.state, 1)) healthy(s.state, a);
  }
  assert.equal(ofVersion(s.state, 1).length, 3);
  assert.equal(ofVersion(s.state, 0).length, 0);
  assert.ok(live(s.state).some((a) => a.ID === canary.ID), 'the canary stays');
  assert.equal(new Set(live(s.state).map((a) => a.Name)).size, 3, 'one allocation per index');
});
