/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call --
   responses are Nomad's JSON, probed field by field; the assertions are the shape check. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGroup, testJob, testNode, testTask } from '../../scheduler/testing/fixtures.js';
import type { Job } from '../../structs/job.js';
import { defaultUpdateStrategy } from '../../structs/job-defaults.js';
import { FakeClient, startTestServer, waitFor, type TestServer } from '../server/testing/test-server.js';

const HB = { minHeartbeatTtlMs: 5_000, heartbeatGraceMs: 5_000, maxHeartbeatsPerSecond: 50, failoverTtlMs: 10_000 };

async function call(ts: TestServer, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const res = await fetch(`${ts.httpUrl}${path}`, { method, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** The API shape of a job, as a Nomad client would POST it. */
function apiJob(over: Partial<Job> = {}): Job {
  return testJob({ ID: 'web', Name: 'web', ...over });
}

void test('POST /v1/job/:id/plan: a dry run with placements, updates, failures and a diff, committing nothing', async () => {
  const ts = await startTestServer({ heartbeat: HB });
  const a = new FakeClient(testNode('node-a'), ts.rpcAddr);
  try {
    await a.start();
    const indexBefore = ts.server.state.latestIndex();
    const fresh = await call(ts, 'POST', '/v1/job/web/plan', { Job: apiJob({ TaskGroups: [testGroup({ Count: 2 })] }), Diff: true });
    assert.equal(fresh.status, 200, fresh.text);
    assert.deepEqual(fresh.json.Annotations.DesiredTGUpdates.web, { Ignore: 0, Place: 2, Migrate: 0, Stop: 0, InPlaceUpdate: 0, DestructiveUpdate: 0, Canary: 0, Preemptions: 0 });
    assert.equal(fresh.json.JobModifyIndex, 0, 'a job not registered yet has no modify index');
    assert.equal(fresh.json.Diff.Type, 'Added');
    assert.equal(fresh.json.FailedTGAllocs, null);
    assert.equal(ts.server.state.latestIndex(), indexBefore, 'a plan changes nothing');
    assert.equal(ts.server.state.jobById('default', 'web'), null);

    const reg = await call(ts, 'POST', '/v1/jobs', { Job: apiJob({ TaskGroups: [testGroup({ Count: 2 })] }) });
    assert.equal(reg.status, 200, reg.text);
    await waitFor(() => ts.server.state.allocsByJob('default', 'web').length === 2, 10_000, 'two allocations placed');
    const jmi = ts.server.state.jobById('default', 'web')!.JobModifyIndex;

    const scaled = await call(ts, 'POST', '/v1/job/web/plan', { Job: apiJob({ TaskGroups: [testGroup({ Count: 3 })] }), Diff: true });
    assert.equal(scaled.status, 200, scaled.text);
    assert.equal(scaled.json.Annotations.DesiredTGUpdates.web.Place, 1);
    // As in Nomad: a new job version that leaves the tasks alone updates the running allocations in place.
    assert.equal(scaled.json.Annotations.DesiredTGUpdates.web.InPlaceUpdate, 2);
    const same = await call(ts, 'POST', '/v1/job/web/plan', { Job: apiJob({ TaskGroups: [testGroup({ Count: 2 })] }), Diff: true });
    assert.equal(same.json.Annotations.DesiredTGUpdates.web.Ignore, 2, 'an unchanged job leaves its allocations alone');
    assert.equal(same.json.Diff.Type, 'None');
    assert.equal(scaled.json.JobModifyIndex, jmi);
    assert.equal(scaled.json.Diff.Type, 'Edited');
    const tgDiff = scaled.json.Diff.TaskGroups.find((g: { Name: string }) => g.Name === 'web');
    assert.deepEqual(tgDiff.Fields.find((f: { Name: string }) => f.Name === 'Count'), { Type: 'Edited', Name: 'Count', Old: '2', New: '3', Annotations: null });

    const changedTask = apiJob({ TaskGroups: [testGroup({ Count: 2, Tasks: [testTask({ Config: { command: '/bin/sleep', args: ['2000'] } })] })] });
    const destructive = await call(ts, 'POST', '/v1/job/web/plan', { Job: changedTask });
    // A rolling update (max_parallel 1 by default) replaces one allocation now; the other waits
    // for it to be healthy, and Nomad's plan shows it as ignored.
    assert.equal(destructive.json.Annotations.DesiredTGUpdates.web.DestructiveUpdate, 1);
    assert.equal(destructive.json.Annotations.DesiredTGUpdates.web.Ignore, 1);
    assert.equal(destructive.json.Annotations.DesiredTGUpdates.web.Place, 0);
    assert.equal(destructive.json.Diff, null, 'no diff unless asked for');
    // With canaries, the new version's first allocation is a canary beside the old ones,
    // counted as Nomad counts it: "(1 canary, 2 ignore)".
    const withCanary = apiJob({ TaskGroups: [{ ...changedTask.TaskGroups[0]!, Update: { ...defaultUpdateStrategy(), Canary: 1 } }] });
    const canary = await call(ts, 'POST', '/v1/job/web/plan', { Job: withCanary });
    assert.deepEqual(canary.json.Annotations.DesiredTGUpdates.web, { Ignore: 2, Place: 0, Migrate: 0, Stop: 0, InPlaceUpdate: 0, DestructiveUpdate: 0, Canary: 1, Preemptions: 0 });

    const huge = apiJob({ TaskGroups: [testGroup({ Count: 3, Tasks: [testTask({ Resources: { CPU: 500, Cores: 0, MemoryMB: 1_000_000, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })] })] });
    const failing = await call(ts, 'POST', '/v1/job/web/plan', { Job: huge });
    assert.equal(failing.status, 200, failing.text);
    assert.ok(failing.json.FailedTGAllocs?.web, 'placement failures are reported per group');
    assert.ok(failing.json.FailedTGAllocs.web.DimensionExhausted.memory >= 1);
    assert.equal(ts.server.state.jobById('default', 'web')!.JobModifyIndex, jmi, 'still nothing committed');

    const mismatch = await call(ts, 'POST', '/v1/job/other/plan', { Job: apiJob() });
    assert.equal(mismatch.status, 400);
    const invalid = await call(ts, 'POST', '/v1/job/web/plan', { Job: { ID: 'web', TaskGroups: 'nope' } });
    assert.equal(invalid.status, 400, invalid.text);
  } finally {
    await a.close();
    await ts.stop();
  }
});

void test('GET/PUT /v1/operator/scheduler/configuration: defaults, update through Raft, check-and-set, validation', async () => {
  const ts = await startTestServer({ heartbeat: HB });
  try {
    const d = await call(ts, 'GET', '/v1/operator/scheduler/configuration');
    assert.equal(d.status, 200, d.text);
    assert.equal(d.json.SchedulerConfig.SchedulerAlgorithm, 'binpack');
    assert.equal(d.json.SchedulerConfig.PreemptionConfig.SystemSchedulerEnabled, true);
    assert.equal(d.json.SchedulerConfig.MemoryOversubscriptionEnabled, false);

    const put = await call(ts, 'PUT', '/v1/operator/scheduler/configuration', {
      SchedulerAlgorithm: 'spread',
      MemoryOversubscriptionEnabled: true,
      PreemptionConfig: { SystemSchedulerEnabled: true, ServiceSchedulerEnabled: true },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.Updated, true);
    const got = await call(ts, 'GET', '/v1/operator/scheduler/configuration');
    const c = got.json.SchedulerConfig;
    assert.equal(c.SchedulerAlgorithm, 'spread');
    assert.equal(c.MemoryOversubscriptionEnabled, true);
    assert.deepEqual(c.PreemptionConfig, { SystemSchedulerEnabled: true, SysBatchSchedulerEnabled: false, BatchSchedulerEnabled: false, ServiceSchedulerEnabled: true });
    assert.equal(c.ModifyIndex, put.json.Index);
    assert.equal(got.headers.get('x-nomad-index'), String(put.json.Index));

    const stale = await call(ts, 'PUT', `/v1/operator/scheduler/configuration?cas=${c.ModifyIndex - 1}`, { SchedulerAlgorithm: 'binpack' });
    assert.equal(stale.json.Updated, false, 'check-and-set with an old index changes nothing');
    assert.equal(ts.server.state.schedulerConfig().SchedulerAlgorithm, 'spread');
    const cas = await call(ts, 'PUT', `/v1/operator/scheduler/configuration?cas=${c.ModifyIndex}`, { SchedulerAlgorithm: 'binpack' });
    assert.equal(cas.json.Updated, true);
    assert.equal(ts.server.state.schedulerConfig().SchedulerAlgorithm, 'binpack');

    const bad = await call(ts, 'PUT', '/v1/operator/scheduler/configuration', { SchedulerAlgorithm: 'random', PreemptionConfig: { BatchSchedulerEnabled: 'yes' } });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /SchedulerAlgorithm/);
    assert.match(bad.text, /PreemptionConfig\.BatchSchedulerEnabled/);
    const badCas = await call(ts, 'PUT', '/v1/operator/scheduler/configuration?cas=x', { SchedulerAlgorithm: 'binpack' });
    assert.equal(badCas.status, 400);
  } finally {
    await ts.stop();
  }
});

void test('?stale: a server without a leader answers stale reads and refuses consistent ones', async () => {
  // bootstrap_expect 2 with no peer: this server never elects a leader.
  const ts = await startTestServer({ bootstrapExpect: 2, heartbeat: HB }, false);
  try {
    const consistent = await call(ts, 'GET', '/v1/nodes');
    assert.equal(consistent.status, 500);
    assert.match(consistent.text, /No cluster leader/);
    const stale = await call(ts, 'GET', '/v1/nodes?stale');
    assert.equal(stale.status, 200, stale.text);
    assert.deepEqual(stale.json, []);
    assert.equal(stale.headers.get('x-nomad-knownleader'), 'false');
    const staleJobs = await call(ts, 'GET', '/v1/jobs?stale=true');
    assert.equal(staleJobs.status, 200);
  } finally {
    await ts.stop();
  }
});

void test('user input never gets a 500', async () => {
  const ts = await startTestServer({ heartbeat: HB });
  try {
    const cases: Array<[string, string, unknown]> = [
      ['POST', '/v1/jobs', '{not json'],
      ['POST', '/v1/jobs', []],
      ['POST', '/v1/jobs', { Job: { ID: 5 } }],
      ['POST', '/v1/job/x/plan', '{'],
      ['POST', '/v1/job/x/plan', { Job: null }],
      ['PUT', '/v1/operator/scheduler/configuration', 'null'],
      ['PUT', '/v1/operator/scheduler/configuration', [1, 2]],
      ['POST', '/v1/node/x/drain', 'null'],
      ['POST', '/v1/node/x/eligibility', '"eligible"'],
      ['GET', '/v1/nodes?index=abc', undefined],
      ['GET', '/v1/jobs?index=1&wait=forever', undefined],
      ['GET', '/v1/allocation/%E0%A4%A', undefined],
      ['DELETE', '/v1/job/nope', undefined],
      ['POST', '/v1/allocation/nope/stop', {}],
      ['GET', '/v1/evaluation/nope', undefined],
      ['PATCH', '/v1/jobs', undefined],
    ];
    for (const [method, path, body] of cases) {
      const r = await call(ts, method, path, body);
      assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} ${JSON.stringify(body)} -> ${r.status} ${r.text}`);
    }
  } finally {
    await ts.stop();
  }
});
