/**
 * A client whose server stops answering without closing the connection (a network partition,
 * a SIGSTOPped process) moves to another server: the connection is pinged, and one that no
 * longer answers is dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { RpcClient } from './rpc-client.js';
import { RpcServer } from './rpc-server.js';

void test('a client leaves a server that stops answering pings and reaches another', async () => {
  const logger = pino({ level: 'silent' });
  // The "partitioned" server: accepts the connection, then never answers anything, not even pings.
  const mute = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
  await new Promise<void>((r) => mute.once('listening', () => r()));
  const good = new RpcServer(logger);
  good.handle('Status.Ping', () => ({ from: 'good' }));
  const goodAddr = await good.listen('127.0.0.1', 0);
  const client = new RpcClient({
    servers: [`127.0.0.1:${(mute.address() as AddressInfo).port}`, `127.0.0.1:${goodAddr.port}`],
    logger,
    keepaliveMs: 200,
    minBackoffMs: 10,
    maxBackoffMs: 50,
  });
  client.start();
  try {
    const deadline = Date.now() + 10_000;
    let answer: unknown = null;
    while (answer === null) {
      assert.ok(Date.now() < deadline, 'the client never moved to the answering server');
      answer = await client.call('Status.Ping', {}, 300).catch(() => null);
    }
    assert.deepEqual(answer, { from: 'good' });
    assert.equal(client.currentServer(), `127.0.0.1:${goodAddr.port}`);
  } finally {
    await client.close();
    await good.close();
    for (const c of mute.clients) c.terminate();
    await new Promise<void>((r) => mute.close(() => r()));
  }
});
