/**
 * Deployments end to end on a real single-server cluster (Raft + LMDB state, the scheduler,
 * the plan applier, the leader's deployment watcher, the HTTP API) with protocol-level fake
 * clients that report allocation health as real clients do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGroup, testJob, testNode, testTask } from '../../scheduler/testing/fixtures.js';
import type { Allocation } from '../../structs/alloc.js';
import { DeploymentDescription, type Deployment, type DeploymentUpdateResponse } from '../../structs/deployment.js';
import type { Job, UpdateStrategy } from '../../structs/job.js';
import { defaultUpdateStrategy } from '../../structs/job-defaults.js';
import { StateStore } from './state/state-store.js';
import { FakeClient, startTestServer, waitFor, type TestServer } from './testing/test-server.js';

const update = (over: Partial<UpdateStrategy> = {}): UpdateStrategy => ({ ...defaultUpdateStrategy(), MaxParallel: 1, MinHealthyTime: 0, ...over });

function webJob(command: string, u: UpdateStrategy, count = 2): Job {
  return testJob({ ID: 'web', Name: 'web', Update: u, TaskGroups: [testGroup({ Count: count, Update: u, Tasks: [testTask({ Config: { command } })] })] });
}

async function health(c: FakeClient, a: Allocation, healthy: boolean): Promise<void> {
  await c.rpc.call('Node.UpdateAlloc', {
    NodeID: c.node.ID,
    SecretID: c.node.SecretID,
    Allocs: [{ ID: a.ID, ClientStatus: 'running', ClientDescription: '', TaskStates: {}, ModifyTime: Date.now() * 1e6, DeploymentStatus: { Healthy: healthy, Timestamp: new Date().toISOString(), Canary: false, ModifyIndex: 0 } }],
  });
}

async function http(ts: TestServer, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string; index: number }> {
  const res = await fetch(`${ts.httpUrl}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, index: Number(res.headers.get('x-nomad-index') ?? 0) };
}

const live = (ts: TestServer): Allocation[] => ts.server.state.allocsByJob('default', 'web').filter((a) => a.DesiredStatus === 'run' && a.ClientStatus !== 'complete');
const latest = (ts: TestServer): Deployment | null => ts.server.state.latestDeploymentByJob('default', 'web');

/** Report every running allocation of the job's current version healthy until its deployment ends. */
async function rollOut(ts: TestServer, c: FakeClient, version: number): Promise<Deployment> {
  await waitFor(() => latest(ts)?.JobVersion === version, 10_000, `deployment for version ${version}`);
  const reported = new Set<string>();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const d = latest(ts)!;
    if (d.Status !== 'running') return d;
    if (Date.now() > deadline) throw new Error(`deployment for version ${version} did not finish: ${JSON.stringify(d.TaskGroups)}`);
    for (const a of live(ts)) {
      if (a.Job.Version !== version || a.ClientStatus !== 'running' || reported.has(a.ID)) continue;
      reported.add(a.ID);
      await health(c, a, true);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withCluster(fn: (ts: TestServer, c: FakeClient) => Promise<void>): Promise<void> {
  const ts = await startTestServer();
  const c = new FakeClient(testNode('node-a'), ts.rpcAddr);
  try {
    c.autoReport(0);
    await c.start();
    await fn(ts, c);
  } finally {
    await c.close();
    await ts.stop();
  }
}

void test('healthy allocations complete the deployment and mark the job version stable; the next version rolls one at a time', async () => {
  await withCluster(async (ts, c) => {
    await ts.endpoints.jobRegister(webJob('/bin/a', update()));
    const d0 = await rollOut(ts, c, 0);
    assert.equal(d0.Status, 'successful');
    assert.equal(d0.StatusDescription, DeploymentDescription.Successful);
    assert.equal(d0.TaskGroups['web']!.HealthyAllocs, 2);
    assert.equal(d0.TaskGroups['web']!.PlacedAllocs, 2);
    assert.notEqual(d0.TaskGroups['web']!.RequireProgressBy, '0001-01-01T00:00:00Z', 'the progress deadline started with the first placement');
    assert.equal(ts.server.state.jobById('default', 'web')!.Stable, true);

    let maxNew = 0;
    const off = ts.server.state.onChange(() => {
      const fresh = live(ts).filter((a) => a.Job.Version === 1 && a.DeploymentStatus?.Healthy !== true).length;
      maxNew = Math.max(maxNew, fresh);
    });
    await ts.endpoints.jobRegister(webJob('/bin/b', update()));
    const d1 = await rollOut(ts, c, 1);
    off();
    assert.equal(d1.Status, 'successful');
    assert.notEqual(d1.ID, d0.ID);
    assert.equal(maxNew, 1, 'max_parallel 1: one unproven allocation at a time');
    assert.ok(live(ts).every((a) => a.Job.Version === 1 && a.DeploymentID === d1.ID));
    assert.deepEqual(
      ts.server.state.jobVersions('default', 'web').map((j) => [j.Version, j.Stable]),
      [
        [1, true],
        [0, true],
      ],
    );
  });
});

void test('an unhealthy allocation fails the deployment and auto_revert registers the stable version again', async () => {
  await withCluster(async (ts, c) => {
    await ts.endpoints.jobRegister(webJob('/bin/a', update({ AutoRevert: true })));
    await rollOut(ts, c, 0);
    await ts.endpoints.jobRegister(webJob('/bin/broken', update({ AutoRevert: true })));
    await waitFor(() => latest(ts)?.JobVersion === 1 && live(ts).some((a) => a.Job.Version === 1 && a.ClientStatus === 'running'), 10_000, 'the new version placed');
    const d1 = latest(ts)!;
    await health(c, live(ts).find((a) => a.Job.Version === 1)!, false);
    await waitFor(() => ts.server.state.deploymentById(d1.ID)!.Status === 'failed', 10_000, 'deployment failed');
    assert.equal(ts.server.state.deploymentById(d1.ID)!.StatusDescription, `${DeploymentDescription.FailedAllocations} - rolling back to job version 0`);
    const job = ts.server.state.jobById('default', 'web')!;
    assert.equal(job.Version, 2, 'the revert is a new version');
    assert.deepEqual(job.TaskGroups[0]!.Tasks[0]!.Config, { command: '/bin/a' });
    // The reverted version rolls out under its own deployment.
    const d2 = await rollOut(ts, c, 2);
    assert.equal(d2.Status, 'successful');
    assert.ok(live(ts).every((a) => (a.Job.TaskGroups[0]!.Tasks[0]!.Config as { command: string }).command === '/bin/a'));
  });
});

void test('a group that makes no progress by its deadline fails the deployment', async () => {
  await withCluster(async (ts) => {
    await ts.endpoints.jobRegister(webJob('/bin/a', update({ HealthyDeadline: 100e6, ProgressDeadline: 300e6 }), 1));
    await waitFor(() => latest(ts)?.Status === 'failed', 10_000, 'progress deadline passes');
    assert.equal(latest(ts)!.StatusDescription, DeploymentDescription.ProgressDeadline);
  });
});

void test('HTTP: list, read, blocking query, pause and resume, fail, allocations, and typed errors', async () => {
  await withCluster(async (ts, c) => {
    await ts.endpoints.jobRegister(webJob('/bin/a', update()));
    await waitFor(() => latest(ts) !== null && live(ts).length === 2, 10_000, 'deployment and allocations');
    const d = latest(ts)!;

    const list = await http(ts, 'GET', '/v1/deployments');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual((list.json as Deployment[]).map((x) => x.ID), [d.ID]);
    assert.equal((await http(ts, 'GET', `/v1/deployments?prefix=${d.ID.slice(0, 4)}`)).status, 200);
    assert.equal(((await http(ts, 'GET', '/v1/deployments?namespace=other')).json as Deployment[]).length, 0);
    assert.equal(((await http(ts, 'GET', `/v1/deployment/${d.ID}`)).json as Deployment).JobID, 'web');
    assert.equal(((await http(ts, 'GET', '/v1/job/web/deployment')).json as Deployment).ID, d.ID);
    assert.equal(((await http(ts, 'GET', '/v1/job/web/deployments')).json as Deployment[]).length, 1);
    const allocs = (await http(ts, 'GET', `/v1/deployment/allocations/${d.ID}`)).json as Array<{ ID: string; DeploymentStatus: unknown }>;
    assert.equal(allocs.length, 2);
    assert.ok(allocs.every((a) => 'DeploymentStatus' in a));
    assert.equal((await http(ts, 'GET', '/v1/deployment/nope')).status, 404);

    // A blocking query wakes when the deployment changes.
    const idx = (await http(ts, 'GET', '/v1/deployments')).index;
    const blocked = http(ts, 'GET', `/v1/deployments?index=${idx}&wait=20s`);
    const pause = await http(ts, 'POST', `/v1/deployment/pause/${d.ID}`, { DeploymentID: d.ID, Pause: true });
    assert.equal(pause.status, 200, pause.text);
    const woke = await blocked;
    assert.ok(woke.index > idx, 'woke with a newer index');
    assert.equal((woke.json as Deployment[])[0]!.Status, 'paused');
    assert.equal((woke.json as Deployment[])[0]!.StatusDescription, DeploymentDescription.Paused);
    const pr = pause.json as DeploymentUpdateResponse;
    assert.ok(pr.DeploymentModifyIndex > 0 && pr.Index === pr.DeploymentModifyIndex);
    assert.equal(pr.EvalID, '');

    const resume = await http(ts, 'POST', `/v1/deployment/pause/${d.ID}`, { Pause: false });
    assert.equal(resume.status, 200, resume.text);
    assert.notEqual((resume.json as DeploymentUpdateResponse).EvalID, '', 'resuming evaluates the job');
    assert.equal(latest(ts)!.Status, 'running');

    assert.equal((await http(ts, 'POST', `/v1/deployment/pause/${d.ID}`, { Pause: 'yes' })).status, 400);
    assert.equal((await http(ts, 'POST', `/v1/deployment/pause/${d.ID}`, { DeploymentID: 'other', Pause: true })).status, 400);
    assert.equal((await http(ts, 'POST', `/v1/deployment/promote/${d.ID}`, { All: true })).status, 400, 'no canaries to promote');
    assert.equal((await http(ts, 'POST', `/v1/deployment/allocation-health/${d.ID}`, { HealthyAllocationIDs: ['nope'] })).status, 404);
    assert.equal((await http(ts, 'POST', `/v1/deployment/allocation-health/${d.ID}`, { HealthyAllocationIDs: 'x' })).status, 400);

    const fail = await http(ts, 'POST', `/v1/deployment/fail/${d.ID}`);
    assert.equal(fail.status, 200, fail.text);
    assert.equal(latest(ts)!.Status, 'failed');
    assert.equal(latest(ts)!.StatusDescription, DeploymentDescription.FailedByUser);
    const again = await http(ts, 'POST', `/v1/deployment/fail/${d.ID}`);
    assert.equal(again.status, 400);
    assert.match(again.text, /can't fail terminal deployment/);
    void c;
  });
});

void test('manual health and promotion of canaries through the API', async () => {
  await withCluster(async (ts, c) => {
    const manual = update({ HealthCheck: 'manual' });
    await ts.endpoints.jobRegister(webJob('/bin/a', manual));
    await waitFor(() => live(ts).filter((a) => a.ClientStatus === 'running').length === 2, 10_000, 'v0 running');
    const d0 = latest(ts)!;
    const ids = live(ts).map((a) => a.ID);
    const r = await http(ts, 'POST', `/v1/deployment/allocation-health/${d0.ID}`, { HealthyAllocationIDs: ids });
    assert.equal(r.status, 200, r.text);
    await waitFor(() => ts.server.state.deploymentById(d0.ID)!.Status === 'successful', 10_000, 'manual health completes v0');

    await ts.endpoints.jobRegister(webJob('/bin/b', { ...manual, Canary: 1 }));
    await waitFor(() => latest(ts)?.JobVersion === 1 && latest(ts)!.TaskGroups['web']!.PlacedCanaries.length === 1, 10_000, 'one canary placed');
    const d1 = latest(ts)!;
    assert.equal(d1.StatusDescription, DeploymentDescription.RunningNeedsPromotion);
    const canaryId = d1.TaskGroups['web']!.PlacedCanaries[0]!;
    assert.equal(live(ts).filter((a) => a.Job.Version === 0).length, 2, 'the old version keeps running beside the canary');
    const early = await http(ts, 'POST', `/v1/deployment/promote/${d1.ID}`, { All: true });
    assert.equal(early.status, 400);
    assert.match(early.text, /has 0\/1 healthy allocations/);
    await waitFor(() => ts.server.state.allocById(canaryId)!.ClientStatus === 'running', 10_000, 'canary running');
    assert.equal((await http(ts, 'POST', `/v1/deployment/allocation-health/${d1.ID}`, { HealthyAllocationIDs: [canaryId] })).status, 200);
    const promote = await http(ts, 'POST', `/v1/deployment/promote/${d1.ID}`, { Groups: ['web'] });
    assert.equal(promote.status, 200, promote.text);
    assert.equal(latest(ts)!.TaskGroups['web']!.Promoted, true);
    // After promotion the rest rolls; health is manual, so set it as each arrives.
    const deadline = Date.now() + 20_000;
    while (latest(ts)!.Status === 'running' && Date.now() < deadline) {
      const pending = live(ts).filter((a) => a.Job.Version === 1 && a.ClientStatus === 'running' && a.DeploymentStatus?.Healthy !== true).map((a) => a.ID);
      if (pending.length > 0) await http(ts, 'POST', `/v1/deployment/allocation-health/${d1.ID}`, { HealthyAllocationIDs: pending });
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(latest(ts)!.Status, 'successful');
    assert.equal(live(ts).length, 2);
    assert.ok(live(ts).every((a) => a.Job.Version === 1));
    assert.ok(live(ts).some((a) => a.ID === canaryId), 'the canary became a regular allocation');
    void c;
  });
});

void test('auto_promote promotes healthy canaries by itself, and the rollout completes', async () => {
  await withCluster(async (ts, c) => {
    await ts.endpoints.jobRegister(webJob('/bin/a', update()));
    await rollOut(ts, c, 0);
    await ts.endpoints.jobRegister(webJob('/bin/b', update({ Canary: 1, AutoPromote: true })));
    await waitFor(() => latest(ts)?.JobVersion === 1, 10_000, 'deployment for version 1');
    assert.equal(latest(ts)!.StatusDescription, DeploymentDescription.RunningAutoPromotion);
    const d1 = await rollOut(ts, c, 1);
    assert.equal(d1.Status, 'successful');
    assert.equal(d1.TaskGroups['web']!.Promoted, true);
    assert.equal(d1.TaskGroups['web']!.PlacedCanaries.length, 1);
    assert.equal(live(ts).length, 2);
    assert.ok(live(ts).every((a) => a.Job.Version === 1));
  });
});

void test('a state snapshot and its restore keep deployments and their by-job index', async () => {
  await withCluster(async (ts) => {
    await ts.endpoints.jobRegister(webJob('/bin/a', update()));
    await waitFor(() => latest(ts) !== null, 10_000, 'deployment');
    const d = latest(ts)!;
    const dir = mkdtempSync(join(tmpdir(), 'yurt-deploy-restore-'));
    const other = StateStore.open(dir);
    try {
      other.restoreBytes(ts.server.state.snapshotBytes(), 99, 1);
      assert.deepEqual(other.deploymentById(d.ID), ts.server.state.deploymentById(d.ID));
      assert.equal(other.latestDeploymentByJob('default', 'web')?.ID, d.ID);
    } finally {
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
