import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultAgentConfig } from '../config/agent-config.js';
import { loadConfigFiles } from '../config/config-files.js';
import { heartbeatConfigOf, HeartbeatTimers } from './heartbeats.js';

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

void test("the server stanza's heartbeat settings reach the timers, failover_heartbeat_ttl included (5 minutes by default)", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'yurt-heartbeat-config-'));
  try {
    const file = join(dir, 'server.hcl');
    await writeFile(file, 'server {\n  heartbeat_grace        = "5s"\n  min_heartbeat_ttl      = "20s"\n  failover_heartbeat_ttl = "45s"\n}\n');
    const server = { ...defaultAgentConfig({ hostname: 'h', cpuCount: 1 }).server, ...(await loadConfigFiles([file])).server };
    assert.deepEqual(heartbeatConfigOf(server), { heartbeatGraceMs: 5_000, minHeartbeatTtlMs: 20_000, maxHeartbeatsPerSecond: 50, failoverTtlMs: 45_000 });
    assert.equal(heartbeatConfigOf(defaultAgentConfig({ hostname: 'h', cpuCount: 1 }).server).failoverTtlMs, 300_000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
