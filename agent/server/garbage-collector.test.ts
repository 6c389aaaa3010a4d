import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testAlloc, testEval, testJob, testNode } from '../../scheduler/testing/fixtures.js';
import type { Allocation } from '../../structs/alloc.js';
import type { Job } from '../../structs/job.js';
import { newDeployment } from '../../structs/deployment.js';
import { encodeCommand, type FsmCommand } from './fsm-commands.js';
import { Fsm } from './fsm.js';
import { collectGarbage, DEFAULT_GC_CONFIG } from './garbage-collector.js';
import { StateStore } from './state/state-store.js';
import { FakeClient, startTestServer, waitFor } from './testing/test-server.js';

const S = 1e9;
const H = 3600 * S;

function alloc(job: Job, id: string, nodeId: string, evalId: string): Allocation {
  return testAlloc(job, { ID: id, EvalID: evalId, Name: `${job.ID}.web[0]`, NodeID: nodeId, NodeName: nodeId, TaskGroup: 'web', CreateIndex: 0, ModifyIndex: 0, AllocModifyIndex: 0 });
}

void test('collectGarbage: Nomad thresholds for evaluations, allocations of dead jobs, dead jobs and down nodes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-gc-'));
  const state = StateStore.open(dir);
  const fsm = new Fsm(state);
  let index = 0;
  const apply = (cmd: FsmCommand): unknown => fsm.apply({ index: ++index, term: 1, data: encodeCommand(cmd) });
  try {
    const t0 = 1_000 * H;
    apply({ type: 'NodeRegister', node: testNode('n1'), now: t0 });
    apply({ type: 'NodeRegister', node: testNode('gone'), now: t0 });
    apply({ type: 'NodeUpdateStatus', nodeId: 'gone', status: 'down', evals: [], now: t0 });
    apply({ type: 'NodeRegister', node: testNode('recent'), now: t0 });
    apply({ type: 'NodeUpdateStatus', nodeId: 'recent', status: 'down', evals: [], now: t0 + 10 * H });

    // A batch job that ran and finished: dead.
    const batch = testJob({ ID: 'batch', Type: 'batch' });
    apply({ type: 'JobRegister', job: batch, eval: testEval(batch, { ID: 'e-batch', ModifyTime: t0 }), now: t0 });
    apply({ type: 'PlanApply', evalId: 'e-batch', job: null, placed: [alloc(state.jobById('default', 'batch')!, 'a-batch', 'n1', 'e-batch')], updated: [], evals: [], now: t0 });
    apply({ type: 'EvalUpsert', evals: [{ ...state.evalById('e-batch')!, Status: 'complete' }] });
    apply({ type: 'AllocClientUpdate', updates: [{ ID: 'a-batch', ClientStatus: 'complete', ClientDescription: '', TaskStates: {}, ModifyTime: t0 }], evals: [], now: t0 });
    assert.equal(state.jobById('default', 'batch')!.Status, 'dead');

    // A running service job with an old complete evaluation, and an old evaluation still pending.
    const svc = testJob({ ID: 'svc' });
    apply({ type: 'JobRegister', job: svc, eval: testEval(svc, { ID: 'e-svc', ModifyTime: t0 }), now: t0 });
    apply({ type: 'PlanApply', evalId: 'e-svc', job: null, placed: [alloc(state.jobById('default', 'svc')!, 'a-svc', 'n1', 'e-svc')], updated: [], evals: [], now: t0 });
    apply({ type: 'EvalUpsert', evals: [{ ...state.evalById('e-svc')!, Status: 'complete' }, testEval(svc, { ID: 'e-svc-old', Status: 'complete', ModifyTime: t0 }), testEval(svc, { ID: 'e-svc-pending', ModifyTime: t0 })] });

    // A batch job still running keeps its evaluations: they are its history.
    const live = testJob({ ID: 'live-batch', Type: 'batch' });
    apply({ type: 'JobRegister', job: live, eval: testEval(live, { ID: 'e-live', ModifyTime: t0 }), now: t0 });
    apply({ type: 'PlanApply', evalId: 'e-live', job: null, placed: [alloc(state.jobById('default', 'live-batch')!, 'a-live', 'n1', 'e-live')], updated: [], evals: [], now: t0 });
    apply({ type: 'EvalUpsert', evals: [{ ...state.evalById('e-live')!, Status: 'complete' }, testEval(live, { ID: 'e-live-old', Status: 'complete', ModifyTime: t0 })] });

    assert.equal(collectGarbage(state, DEFAULT_GC_CONFIG, t0 + 30 * 60 * S), null, 'nothing is old enough after 30 minutes');

    const at2h = collectGarbage(state, DEFAULT_GC_CONFIG, t0 + 2 * H)!;
    assert.deepEqual(at2h.evalIds.sort(), ['e-batch', 'e-svc-old'], 'after 1h: terminal evaluations with no live allocations');
    assert.deepEqual(at2h.allocIds, ['a-batch'], 'terminal allocations of dead jobs');
    assert.deepEqual(at2h.jobs, [], 'dead jobs wait 4h');

    const at5h = collectGarbage(state, DEFAULT_GC_CONFIG, t0 + 5 * H)!;
    assert.deepEqual(at5h.jobs, [{ namespace: 'default', id: 'batch' }]);
    assert.deepEqual(at5h.evalIds.sort(), ['e-batch', 'e-svc-old']);
    assert.ok(state.jobById('default', 'live-batch'));
    assert.deepEqual(at5h.nodeIds, [], 'down nodes wait 24h');

    const at30h = collectGarbage(state, DEFAULT_GC_CONFIG, t0 + 30 * H)!;
    assert.deepEqual(at30h.nodeIds, ['gone'], 'only the node down for more than 24h');
    apply(at30h);
    assert.equal(state.jobById('default', 'batch'), null);
    assert.equal(state.allocById('a-batch'), null);
    assert.equal(state.evalById('e-batch'), null);
    assert.deepEqual(state.jobVersions('default', 'batch'), [], 'a collected job leaves no versions behind');
    assert.equal(state.nodeById('gone'), null);
    assert.ok(state.nodeById('recent'));
    assert.ok(state.evalById('e-svc'), 'an evaluation whose allocation still runs is kept');
    assert.ok(state.evalById('e-svc-pending'), 'a pending evaluation is never collected');
    assert.ok(state.evalById('e-live-old'), 'a running batch job keeps its evaluations');
    assert.equal(state.allocById('a-svc')!.JobID, 'svc');
    assert.deepEqual(state.evalsByJob('default', 'svc').map((e) => e.ID).sort(), ['e-svc', 'e-svc-pending']);
    assert.equal(collectGarbage(state, DEFAULT_GC_CONFIG, t0 + 30 * H), null, 'a second run finds nothing');
  } finally {
    await state.close();
    rmSync(dir, { recursive: true });
  }
});

void test('garbage collection runs on the leader by itself, and PUT /v1/system/gc forces it', async () => {
  const hb = { minHeartbeatTtlMs: 5_000, heartbeatGraceMs: 5_000, maxHeartbeatsPerSecond: 50, failoverTtlMs: 10_000 };
  const auto = await startTestServer({ heartbeat: hb, gc: { evalGcThresholdMs: 200, jobGcThresholdMs: 200, nodeGcThresholdMs: 200, intervalMs: 100 } });
  const a = new FakeClient(testNode('node-a'), auto.rpcAddr);
  try {
    await a.start();
    await auto.endpoints.jobRegister(testJob({ ID: 'batch', Name: 'batch', Type: 'batch' }));
    const placed = await a.waitForPush((x) => x.JobID === 'batch');
    await a.report(placed.ID, 'complete');
    // The collector runs every 100 ms, so the dead job may be gone before a poll sees it dead.
    await waitFor(() => auto.server.state.jobById('default', 'batch') === null, 5_000, 'dead job collected by the core job');
    assert.equal(auto.server.state.allocById(placed.ID), null);
    assert.deepEqual(auto.server.state.evalsByJob('default', 'batch'), []);
    assert.ok(auto.server.state.nodeById('node-a'), 'a ready node is never collected');
  } finally {
    await a.close();
    await auto.stop();
  }

  const forced = await startTestServer({ heartbeat: hb });
  const b = new FakeClient(testNode('node-b'), forced.rpcAddr);
  try {
    await b.start();
    await forced.endpoints.jobRegister(testJob({ ID: 'batch', Name: 'batch', Type: 'batch' }));
    await forced.endpoints.jobRegister(testJob({ ID: 'svc', Name: 'svc' }));
    const done = await b.waitForPush((x) => x.JobID === 'batch');
    await b.waitForPush((x) => x.JobID === 'svc');
    await b.report(done.ID, 'complete');
    await waitFor(() => forced.server.state.jobById('default', 'batch')?.Status === 'dead', 5_000, 'batch job dead');
    await waitFor(() => forced.server.state.evals().every((e) => e.Status !== 'pending'), 5_000, 'evaluations processed');
    const res = await fetch(`${forced.httpUrl}/v1/system/gc`, { method: 'PUT' });
    assert.equal(res.status, 200, await res.text());
    assert.equal(forced.server.state.jobById('default', 'batch'), null, 'forced: the dead job goes at once (default thresholds are hours)');
    assert.ok(forced.server.state.jobById('default', 'svc'), 'a running job stays');
    assert.equal(forced.server.state.allocsByJob('default', 'svc').length, 1);
  } finally {
    await b.close();
    await forced.stop();
  }
});

void test('collectGarbage: finished deployments after deployment_gc_threshold, running ones never, and those of a collected job with it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-gc-deploy-'));
  const state = StateStore.open(dir);
  const fsm = new Fsm(state);
  let index = 0;
  const apply = (cmd: FsmCommand): unknown => fsm.apply({ index: ++index, term: 1, data: encodeCommand(cmd) });
  try {
    const t0 = 1_000 * H;
    apply({ type: 'NodeRegister', node: testNode('n1'), now: t0 });
    const svc = testJob({ ID: 'svc' });
    apply({ type: 'JobRegister', job: svc, eval: null, now: t0 });
    const job = state.jobById('default', 'svc')!;
    apply({ type: 'PlanApply', evalId: 'e1', job, placed: [], updated: [], evals: [], now: t0, deployment: newDeployment(job, 50, 'd-old', t0) });
    apply({ type: 'DeploymentStatusUpdate', updates: [{ DeploymentID: 'd-old', Status: 'successful', StatusDescription: 'Deployment completed successfully' }], job: null, evals: [], now: t0 });
    apply({ type: 'PlanApply', evalId: 'e2', job, placed: [], updated: [], evals: [], now: t0, deployment: newDeployment(job, 50, 'd-running', t0) });

    // A job that ended long ago: collected with its (finished) deployment.
    const batch = testJob({ ID: 'gone', Type: 'batch' });
    apply({ type: 'JobRegister', job: batch, eval: testEval(batch, { ID: 'e-gone', ModifyTime: t0 }), now: t0 });
    apply({ type: 'EvalUpsert', evals: [{ ...state.evalById('e-gone')!, Status: 'complete' }] });
    assert.equal(state.jobById('default', 'gone')!.Status, 'dead');
    apply({ type: 'PlanApply', evalId: 'e3', job: state.jobById('default', 'gone'), placed: [], updated: [], evals: [], now: t0, deployment: newDeployment(state.jobById('default', 'gone')!, 50, 'd-gone', t0) });
    apply({ type: 'DeploymentStatusUpdate', updates: [{ DeploymentID: 'd-gone', Status: 'cancelled', StatusDescription: 'Cancelled because job is stopped' }], job: null, evals: [], now: t0 });

    const early = collectGarbage(state, DEFAULT_GC_CONFIG, t0 + 30 * 60 * S);
    assert.equal(early, null, 'nothing is old enough after 30 minutes');
    const at2h = collectGarbage(state, DEFAULT_GC_CONFIG, t0 + 2 * H)!;
    assert.deepEqual(at2h.deploymentIds?.sort(), ['d-gone', 'd-old'], 'finished deployments older than 1h; the running one stays');
    const custom = collectGarbage(state, { ...DEFAULT_GC_CONFIG, deploymentGcThresholdMs: 3 * 3_600_000 }, t0 + 2 * H);
    assert.equal(custom?.deploymentIds?.length ?? 0, 0, 'the threshold is configurable');
    const withJob = collectGarbage(state, { ...DEFAULT_GC_CONFIG, deploymentGcThresholdMs: 100 * 3_600_000 }, t0 + 5 * H)!;
    assert.deepEqual(withJob.jobs, [{ namespace: 'default', id: 'gone' }]);
    assert.deepEqual(withJob.deploymentIds, ['d-gone'], 'a collected job takes its deployments with it, whatever their age');

    apply(at2h);
    assert.equal(state.deploymentById('d-old'), null);
    assert.equal(state.deploymentById('d-gone'), null);
    assert.equal(state.deploymentById('d-running')?.Status, 'running');
    assert.deepEqual(state.deploymentsByJob('default', 'svc').map((d) => d.ID), ['d-running']);
  } finally {
    await state.close();
    rmSync(dir, { recursive: true });
  }
});
