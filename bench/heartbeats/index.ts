/**
 * Heartbeat load on a server: N simulated clients (default 5,000; BENCH_HB_CLIENTS) connect
 * over websockets to a server process, register, and heartbeat
 *   1. on the schedule the server's TTL rule gives them (each at half its TTL, as yurt's
 *      client does), then
 *   2. at a fixed 250 heartbeats/s (BENCH_HB_RATE) spread over all of them.
 * One client is killed right after a heartbeat; detect_ms is the time until the server marks
 * its node down (its TTL plus heartbeat_grace, by design).
 *
 * The servers are a real three-server cluster; clients spread their connections over all
 * three and followers forward to the leader, as in production. Leader CPU and RSS are read
 * from /proc (Linux).
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { RpcClient } from '../../agent/rpc/rpc-client.js';
import type { NodeRegisterResponse } from '../../agent/server/endpoints.js';
import { testNode } from '../../scheduler/testing/fixtures.js';
import { startBenchCluster } from './cluster.js';

const CLIENTS = Number(process.env['BENCH_HB_CLIENTS'] ?? 5000);
const RATE = Number(process.env['BENCH_HB_RATE'] ?? 250);
const PHASE_MS = Number(process.env['BENCH_HB_PHASE_MS'] ?? 20_000);
const DETECT_TIMEOUT_MS = 90_000;
const CLK_TCK = 100;

interface SimClient {
  id: string;
  secret: string;
  rpc: RpcClient;
  ttlMs: number;
  timer: NodeJS.Timeout | null;
}

function cpuTicks(pid: number): number {
  // /proc/<pid>/stat: fields 14 and 15 are utime and stime, after the ")" that ends the name.
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function pool<T>(items: T[], concurrency: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export async function runHeartbeatsBench(): Promise<Record<string, number>> {
  const maxHb = Number(process.env['BENCH_MAX_HB_PER_S'] ?? 250);
  const cluster = await startBenchCluster(
    `server {\n  num_schedulers = 1\n  min_heartbeat_ttl = "10s"\n  heartbeat_grace = "10s"\n  max_heartbeats_per_second = ${maxHb}\n}\n`,
  );
  const leaderServer = await cluster.leader();
  const server = { http: leaderServer.http, pid: leaderServer.proc.pid ?? 0 };
  const allRpc = cluster.servers.map((s) => s.rpc);
  const logger = pino({ level: 'silent' });
  const clients: SimClient[] = [];
  let acked = 0;
  let failed = 0;

  const heartbeat = async (c: SimClient): Promise<void> => {
    try {
      const r = await c.rpc.call<NodeRegisterResponse>('Node.UpdateStatus', { NodeID: c.id, SecretID: c.secret, Status: 'ready' }, 30_000);
      c.ttlMs = r.HeartbeatTTLMs;
      acked++;
    } catch {
      failed++;
    }
  };
  const natural = (c: SimClient, delayMs: number): void => {
    c.timer = setTimeout(() => {
      void heartbeat(c).then(() => {
        if (c.timer !== null) natural(c, c.ttlMs / 2);
      });
    }, delayMs);
  };

  try {
    const t0 = performance.now();
    for (let i = 0; i < CLIENTS; i++) {
      const id = `bench-${String(i).padStart(5, '0')}-0000-0000-000000000000`;
      clients.push({ id, secret: `secret-${i}`, rpc: new RpcClient({ servers: [allRpc[i % 3]!, ...allRpc.filter((_, j) => j !== i % 3)], logger, defaultTimeoutMs: 60_000 }), ttlMs: 0, timer: null });
    }
    await pool(clients, 200, async (c) => {
      c.rpc.start();
      const r = await c.rpc.call<NodeRegisterResponse>('Node.Register', { Node: testNode(c.id, { SecretID: c.secret, Name: c.id }) });
      c.ttlMs = r.HeartbeatTTLMs;
    });
    const registerS = (performance.now() - t0) / 1000;
    process.stderr.write(`    registered ${CLIENTS} clients in ${round(registerS)} s (three servers)\n`);

    // Phase 1: the TTL rule's schedule, already in steady state (first beat at a random point of the half-TTL).
    for (const c of clients) natural(c, Math.random() * (c.ttlMs / 2));
    let a0 = acked;
    let cpu0 = cpuTicks(server.pid);
    let w0 = performance.now();
    await sleep(PHASE_MS);
    const ttlRate = (acked - a0) / ((performance.now() - w0) / 1000);
    const ttlCpu = ((cpuTicks(server.pid) - cpu0) / CLK_TCK / ((performance.now() - w0) / 1000)) * 100;
    for (const c of clients) {
      if (c.timer) clearTimeout(c.timer);
      c.timer = null;
    }

    // Kill one client right after a heartbeat: the server should notice within its TTL + grace.
    const victim = clients.pop()!;
    await heartbeat(victim);
    const victimTtl = victim.ttlMs;
    const killedAt = performance.now();
    await victim.rpc.close();

    // Phase 2: a fixed rate spread round-robin over the clients.
    a0 = acked;
    cpu0 = cpuTicks(server.pid);
    w0 = performance.now();
    let k = 0;
    let sent = 0;
    let detectMs = Number.NaN;
    // Paced by elapsed time, not by timer ticks, so a late timer does not lower the rate.
    for (let e = 0; e < PHASE_MS; e = performance.now() - w0) {
      const target = Math.floor((RATE * e) / 1000);
      for (; sent < target; sent++) void heartbeat(clients[k++ % clients.length]!);
      await sleep(5);
    }
    const elapsed = (performance.now() - w0) / 1000;
    const rate = (acked - a0) / elapsed;
    const cpu = ((cpuTicks(server.pid) - cpu0) / CLK_TCK / elapsed) * 100;
    const rss = rssMb(server.pid);

    // Keep the rest alive (half their TTL) while waiting to see the victim marked down.
    for (const c of clients) natural(c, Math.random() * (c.ttlMs / 2));
    while (performance.now() - killedAt < DETECT_TIMEOUT_MS) {
      const res = await fetch(`${server.http}/v1/node/${victim.id}?stale`);
      const node = (await res.json()) as { Status: string };
      if (node.Status === 'down') {
        detectMs = performance.now() - killedAt;
        break;
      }
      await sleep(100);
    }
    return {
      clients: CLIENTS,
      heartbeats_per_s: round(rate),
      leader_cpu_pct: round(cpu),
      leader_rss_mb: round(rssMb(server.pid) > rss ? rssMb(server.pid) : rss),
      detect_ms: Math.round(detectMs),
      ttl_rule_heartbeats_per_s: round(ttlRate),
      ttl_rule_leader_cpu_pct: round(ttlCpu),
      victim_ttl_ms: victimTtl,
      register_s: round(registerS),
      failed_heartbeats: failed,
    };
  } finally {
    for (const c of clients) {
      if (c.timer) clearTimeout(c.timer);
      c.timer = null;
    }
    await pool(clients, 500, (c) => c.rpc.close());
    await cluster.stop();
  }
}
