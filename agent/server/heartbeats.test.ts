import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeartbeatTimers } from './heartbeats.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

void test("a new leader gives every node failover_heartbeat_ttl; a node's first heartbeat brings it back to its own TTL", async () => {
  const expired: string[] = [];
  const timers = new HeartbeatTimers({ minHeartbeatTtlMs: 50, maxHeartbeatsPerSecond: 50, heartbeatGraceMs: 50, failoverTtlMs: 900 }, (id) => expired.push(id));
  try {
    timers.initialize(['quiet', 'heard']);
    // "heard" heartbeats to the new leader at once, with the ordinary TTL.
    timers.reset('heard', 50);
    await sleep(400);
    assert.deepEqual(expired, ['heard'], 'a node heard from expires on its own TTL plus grace');
    await sleep(900);
    assert.deepEqual(expired, ['heard', 'quiet'], 'a node never heard from expires after the failover TTL plus grace');
    assert.equal(timers.size(), 0);
  } finally {
    timers.clear();
  }
});
