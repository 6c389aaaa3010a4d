/**
 * The per-connection request limit on a real RPC listener over loopback websockets, on a
 * clock the test moves: a connection that sends more than its burst gets `rate_limited`
 * answers for the excess and stays connected, its bucket refills with time, and another
 * connection meanwhile is served in full.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { YurtError } from '../../structs/errors.js';
import { RpcClient } from './rpc-client.js';
import { RpcServer } from './rpc-server.js';

const logger = pino({ level: 'silent' });

void test('a flooding connection is answered rate_limited; it stays up and others are served', async () => {
  let now = 1_000_000;
  const rpc = new RpcServer(logger, { rateLimit: { ratePerSec: 5, burst: 10 }, nowMs: () => now });
  let served = 0;
  rpc.handle('Echo', (a) => {
    served++;
    return a;
  });
  const addr = await rpc.listen('127.0.0.1', 0);
  const flooder = new RpcClient({ servers: [`127.0.0.1:${addr.port}`], logger });
  const polite = new RpcClient({ servers: [`127.0.0.1:${addr.port}`], logger });
  flooder.start();
  polite.start();
  try {
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => flooder.call('Echo', i, 5_000)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 10, 'the burst is served');
    assert.equal(refused.length, 20);
    for (const r of refused) {
      assert.ok(r.reason instanceof YurtError, String(r.reason));
      assert.equal(r.reason.code, 'rate_limited');
      assert.match(r.reason.message, /too many requests on this connection \(limit 5\/s, burst 10\)/);
    }
    assert.equal(served, 10, 'refused requests never reach the handler');

    // Another connection has its own bucket.
    const others = await Promise.all(Array.from({ length: 10 }, (_, i) => polite.call<number>('Echo', i, 5_000)));
    assert.deepEqual(others, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    // The flooder kept its connection; a second later five more requests fit.
    assert.ok(flooder.isConnected());
    now += 1_000;
    const again = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => flooder.call('Echo', i, 5_000)));
    assert.equal(again.filter((r) => r.status === 'fulfilled').length, 5);
    assert.equal(again.filter((r) => r.status === 'rejected').length, 1);
  } finally {
    await flooder.close();
    await polite.close();
    await rpc.close();
  }
});

void test('a rate of 0 turns the limit off', async () => {
  const rpc = new RpcServer(logger, { rateLimit: { ratePerSec: 0, burst: 1 }, nowMs: () => 0 });
  rpc.handle('Echo', (a) => a);
  const addr = await rpc.listen('127.0.0.1', 0);
  const client = new RpcClient({ servers: [`127.0.0.1:${addr.port}`], logger });
  client.start();
  try {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call<number>('Echo', i, 5_000)));
    assert.equal(results.length, 50);
  } finally {
    await client.close();
    await rpc.close();
  }
});
