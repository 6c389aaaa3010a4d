import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { RpcClient } from '../rpc/rpc-client.js';
import { RpcServer } from '../rpc/rpc-server.js';
import { registerSchedulingEndpoints } from './scheduling-backend.js';
import { startTestServer } from './testing/test-server.js';
import { testJob } from '../../scheduler/testing/fixtures.js';

void test('an evaluation handed to a follower that went away while it waited goes back to the queue at once', async () => {
  const ts = await startTestServer();
  // The leader's side of the follower workers' protocol, as agents serve it on the RPC port.
  const rpc = new RpcServer(pino({ level: 'silent' }));
  const { port } = await rpc.listen('127.0.0.1', 0);
  registerSchedulingEndpoints(rpc, ts.server);
  // Several followers' workers wait for work, then go away before any arrives (the server's
  // own worker waits too: with more departed waiters ahead of it, one of them is handed the work).
  const followers = Array.from({ length: 6 }, () => new RpcClient({ servers: [`127.0.0.1:${port}`], logger: pino({ level: 'silent' }) }));
  try {
    for (const f of followers) f.start();
    for (let i = 0; i < 200 && !followers.every((f) => f.isConnected()); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(followers.every((f) => f.isConnected()), 'the followers connected');
    const waiting = followers.map((f) => f.call('Eval.Dequeue', { Schedulers: ['service'], TimeoutMs: 5000 }, 10_000).catch(() => null));
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all(followers.map((f) => f.close()));
    await Promise.all(waiting);
    const job = testJob({ ID: 'after-leave', Name: 'after-leave' });
    await ts.endpoints.jobRegister(job);
    // Handed to a departed waiter, it would come back only after the nack timeout (a minute).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const evals = ts.server.state.evalsByJob('default', 'after-leave');
      if (evals.some((e) => e.TriggeredBy === 'job-register' && e.Status === 'complete')) break;
      assert.ok(Date.now() < deadline, `evaluation not processed in time: ${JSON.stringify(evals.map((e) => e.Status))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await Promise.all(followers.map((f) => f.close()));
    await rpc.close();
    await ts.stop();
  }
});
