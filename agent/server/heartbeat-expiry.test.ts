import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testJob, testNode } from '../../scheduler/testing/fixtures.js';
import { FakeClient, startTestServer, waitFor } from './testing/test-server.js';

void test('heartbeat expiry: node down through Raft, its allocation lost and replaced once, pushed to the new node', async () => {
  const ts = await startTestServer({ heartbeat: { minHeartbeatTtlMs: 150, heartbeatGraceMs: 150, maxHeartbeatsPerSecond: 50, failoverTtlMs: 5_000 } });
  const { server } = ts;
  const a = new FakeClient(testNode('node-a'), ts.rpcAddr);
  try {
    await a.start();
    await ts.endpoints.jobRegister(testJob({ ID: 'web', Name: 'web' }));
    const first = await a.waitForPush((x) => x.JobID === 'web' && x.DesiredStatus === 'run');
    await a.report(first.ID, 'running');

    // B joins only now, so the first placement had nowhere else to go.
    const b = new FakeClient(testNode('node-b'), ts.rpcAddr);
    try {
      await b.start();
      // A keeps heartbeating for a while: several TTLs pass without it being marked down.
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(server.state.nodeById('node-a')!.Status, 'ready', 'a heartbeating node stays ready');

      const killedAt = Date.now();
      a.stopHeartbeats();
      await waitFor(() => server.state.nodeById('node-a')!.Status === 'down', 5_000, 'node-a marked down');
      // TTL (≤ 2 × min, with stagger) plus grace bounds detection.
      assert.ok(Date.now() - killedAt < 2_000, `detected in ${Date.now() - killedAt} ms`);

      const replacement = await b.waitForPush((x) => x.JobID === 'web' && x.DesiredStatus === 'run', 5_000);
      assert.equal(replacement.NodeID, 'node-b');
      assert.equal(replacement.Name, first.Name, 'the replacement fills the same slot');
      assert.equal(replacement.PreviousAllocation, first.ID);
      await waitFor(() => server.state.allocById(first.ID)!.ClientStatus === 'lost', 5_000, 'first allocation marked lost');
      assert.equal(server.state.allocById(first.ID)!.DesiredStatus, 'stop');

      // Nothing more happens over the next seconds: exactly one replacement.
      await new Promise((r) => setTimeout(r, 2_000));
      const allocs = server.state.allocsByJob('default', 'web');
      assert.equal(allocs.length, 2, `allocations: ${allocs.map((x) => `${x.NodeID}/${x.DesiredStatus}/${x.ClientStatus}`).join(', ')}`);
      const live = allocs.filter((x) => x.DesiredStatus === 'run');
      assert.deepEqual(live.map((x) => x.ID), [replacement.ID]);
      assert.equal(new Set(b.pushed.filter((x) => x.JobID === 'web').map((x) => x.ID)).size, 1, 'B was pushed one allocation');
      const nodeEvals = server.state.evalsByJob('default', 'web').filter((e) => e.TriggeredBy === 'node-update' && e.NodeID === 'node-a');
      assert.equal(nodeEvals.length, 1, 'one node-update evaluation for the lost node');
      assert.equal(server.state.nodeById('node-b')!.Status, 'ready');
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
    await ts.stop();
  }
});
