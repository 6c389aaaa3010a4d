/**
 * Every write endpoint against bad input: malformed JSON, wrong types, unknown objects and
 * an oversize body each get a 4xx with a message, and the cluster state does not move.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGroup, testJob, testNode } from '../../scheduler/testing/fixtures.js';
import { FakeClient, waitFor } from '../server/testing/test-server.js';
import { MAX_BODY_BYTES } from './http-router.js';
import { call, startApiHarness } from './testing/api-harness.js';

type Case = [method: string, path: string, body: unknown, status?: number];

void test('bad input to every write endpoint is a 4xx with a clear message and changes nothing', async () => {
  const h = await startApiHarness();
  const client = new FakeClient(testNode('node-a'), h.ts.rpcAddr);
  try {
    await client.start();
    client.autoReport(10);
    const reg = await call(h.url, 'POST', '/v1/jobs', { Job: testJob({ ID: 'web', Name: 'web', TaskGroups: [testGroup({ Count: 1 })] }) });
    assert.equal(reg.status, 200, reg.text);
    await waitFor(() => h.ts.server.state.allocsByJob('default', 'web').some((a) => a.ClientStatus === 'running'), 10_000, 'web running');
    const allocId = h.ts.server.state.allocsByJob('default', 'web')[0]!.ID;
    const nodeId = client.node.ID;
    // Let the cluster settle so that only our requests could move the index.
    await new Promise((r) => setTimeout(r, 300));
    const job = h.ts.server.state.jobById('default', 'web')!;

    const malformed = '{"Job": {';
    const cases: Case[] = [
      // Register / update.
      ['POST', '/v1/jobs', malformed],
      ['POST', '/v1/jobs', '[]'],
      ['POST', '/v1/jobs', { Job: 'web' }],
      ['POST', '/v1/jobs', { Job: { ...job, Priority: 'high' } }],
      ['POST', '/v1/jobs', { Job: { ...job, TaskGroups: [{ ...job.TaskGroups[0], Count: -3 }] } }],
      ['POST', '/v1/job/web', malformed],
      ['POST', '/v1/job/web', { Job: { ...job, ID: 'other' } }],
      ['POST', '/v1/job/web/plan', malformed],
      ['POST', '/v1/job/web/plan', { Job: { ...job, Type: 7 } }],
      // Stop, evaluate, revert, scale.
      ['DELETE', '/v1/job/nope', undefined, 404],
      ['POST', '/v1/job/nope/evaluate', {}, 404],
      ['POST', '/v1/job/web/evaluate', malformed],
      ['POST', '/v1/job/web/evaluate', { EvalOptions: { ForceReschedule: 'yes' } }],
      ['POST', '/v1/job/web/evaluate', { EvalOptions: [] }],
      ['POST', '/v1/job/web/revert', malformed],
      ['POST', '/v1/job/web/revert', { JobVersion: 'zero' }],
      ['POST', '/v1/job/web/revert', { JobVersion: 0 }],
      ['POST', '/v1/job/web/revert', { JobVersion: 42 }, 404],
      ['POST', '/v1/job/nope/revert', { JobVersion: 0 }, 404],
      ['POST', '/v1/job/web/scale', malformed],
      ['POST', '/v1/job/web/scale', { Count: 1.5, Target: { Group: 'web' } }],
      ['POST', '/v1/job/web/scale', { Count: 1, Target: { Group: 7 } }],
      ['POST', '/v1/job/nope/scale', { Count: 1, Target: { Group: 'web' } }, 404],
      // Allocations.
      ['POST', `/v1/allocation/${allocId}/stop`, malformed],
      ['POST', `/v1/allocation/${allocId}/stop`, '"stop"'],
      ['POST', '/v1/allocation/nope/stop', undefined, 404],
      ['POST', `/v1/client/allocation/${allocId}/restart`, malformed],
      ['POST', `/v1/client/allocation/${allocId}/restart`, { TaskName: 5 }],
      ['POST', `/v1/client/allocation/${allocId}/signal`, malformed],
      ['POST', `/v1/client/allocation/${allocId}/signal`, { Signal: ['SIGHUP'] }],
      // Nodes.
      ['POST', `/v1/node/${nodeId}/eligibility`, malformed],
      ['POST', `/v1/node/${nodeId}/eligibility`, { Eligibility: true }],
      ['POST', '/v1/node/nope/eligibility', { Eligibility: 'eligible' }, 404],
      ['POST', `/v1/node/${nodeId}/drain`, malformed],
      ['POST', `/v1/node/${nodeId}/drain`, { DrainSpec: { Deadline: '1h' } }],
      ['POST', '/v1/node/nope/drain', { DrainSpec: null }, 404],
      // Scheduler configuration.
      ['PUT', '/v1/operator/scheduler/configuration', malformed],
      ['PUT', '/v1/operator/scheduler/configuration', { SchedulerAlgorithm: 5 }],
    ];
    const before = h.ts.server.state.latestIndex();
    for (const [method, path, body, status] of cases) {
      const r = await call(h.url, method, path, body);
      const what = `${method} ${path} ${typeof body === 'string' ? body : JSON.stringify(body)} -> ${r.status} ${r.text}`;
      if (status !== undefined) assert.equal(r.status, status, what);
      else assert.ok(r.status >= 400 && r.status < 500, what);
      assert.ok(r.text.trim().length > 3, `an error says why: ${what}`);
      assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8', what);
    }
    assert.equal(h.ts.server.state.latestIndex(), before, 'no bad request changed the state');
    assert.deepEqual(h.ts.server.state.jobById('default', 'web'), job, 'the job is as it was');

    // An oversize body is refused with 413 before it is parsed, on every write path.
    const huge = JSON.stringify({ Job: { ...job, Meta: { pad: 'x'.repeat(MAX_BODY_BYTES) } } });
    for (const path of ['/v1/jobs', '/v1/job/web/plan', '/v1/job/web/scale']) {
      const r = await fetch(`${h.url}${path}`, { method: 'POST', body: huge }).then(
        async (res) => ({ status: res.status, text: await res.text() }),
        // The server may close the connection while the client is still sending: also a refusal.
        (e: unknown) => ({ status: 413, text: `connection closed by server: ${String(e)}` }),
      );
      assert.equal(r.status, 413, `${path}: ${r.text}`);
    }
    assert.equal(h.ts.server.state.latestIndex(), before);
  } finally {
    await client.close();
    await h.close();
  }
});
