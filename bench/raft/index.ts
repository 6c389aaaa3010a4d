/**
 * Raft benchmark: three real server processes on loopback (consensus/testdata/raft-server.ts:
 * websocket transport, durable LMDB with fsync before every vote and ack), 256-byte commands.
 *
 * - serial: one client, one write at a time: commit latency p50/p99;
 * - throughput: 1,000 writes kept in flight: commits/s and their latency p99;
 * - failover: kill -9 of the leader while 32 writers load it, then the time until a write
 *   proposed on the new leader commits; repeated (the killed server is restarted and caught
 *   up between trials).
 *
 * Timing of the servers (documented in consensus/README.md): tick 20 ms, heartbeat every
 * 2 ticks (40 ms), election timeout 10 ticks randomized to [200 ms, 400 ms), PreVote and
 * CheckQuorum on. Latencies are measured by the client, so they include its request to the
 * leader over a local websocket (about 0.05 ms).
 *
 *   npm run bench -- raft          (or: node --import tsx bench/raft/index.ts)
 *   RAFT_BENCH_SERIAL=2000 RAFT_BENCH_OPS=30000 RAFT_BENCH_TRIALS=20   sizes
 */
import type { ServerProcess } from '../../consensus/testing/process-cluster.js';
import { ProcessCluster } from '../../consensus/testing/process-cluster.js';

const COMMAND_BYTES = 256;
const TUNING = { tickMs: 20, electionTicks: 10, heartbeatTicks: 2 };

const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

async function put(s: ServerProcess, key: string, value: string, timeoutMs = 5000): Promise<void> {
  await s.call({ op: 'put', key, value, padTo: COMMAND_BYTES, timeoutMs }, timeoutMs + 1000);
}

async function serial(c: ProcessCluster, n: number): Promise<{ p50: number; p99: number }> {
  const leader = await c.leader();
  for (let i = 0; i < 200; i++) await put(leader, `warm${i % 10}`, 'x');
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await put(leader, `s${i % 100}`, `v${i}`);
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function throughput(c: ProcessCluster, total: number, inFlight: number): Promise<{ perSecond: number; p99: number; p50: number }> {
  const leader = await c.leader();
  const lat: number[] = [];
  let issued = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async (_, w) => {
      while (issued < total) {
        const i = issued++;
        const t = performance.now();
        await put(leader, `t${(w * 7 + i) % 1000}`, `v${i}`, 30_000);
        lat.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { perSecond: total / seconds, p99: pct(lat, 99), p50: pct(lat, 50) };
}

/** One failover: kill -9 the loaded leader, time until a write commits on its successor. */
async function failoverTrial(c: ProcessCluster, trial: number): Promise<number> {
  const leader = await c.leader();
  let loading = true;
  const writers = Array.from({ length: 32 }, async (_, w) => {
    for (let i = 0; loading; i++) await put(leader, `f${w}`, `${trial}-${i}`, 2000).catch(() => sleep(5));
  });
  await sleep(300);
  const survivors = [...c.servers.values()].filter((s) => s !== leader && s.running);
  const killedAt = performance.now();
  await leader.kill();
  loading = false;
  let committedAt = 0;
  // Every survivor is offered a write in a tight loop; a follower refuses at once, the new
  // leader accepts as soon as it is elected.
  await Promise.all(
    survivors.map(async (s) => {
      for (let i = 0; committedAt === 0; i++) {
        try {
          await put(s, 'failover', `${trial}-${s.id}-${i}`, 3000);
          if (committedAt === 0) committedAt = performance.now();
        } catch {
          await sleep(1);
        }
      }
    }),
  );
  await Promise.all(writers);
  const ms = committedAt - killedAt;
  await leader.start();
  const st = await (await c.leader()).status();
  await c.converged(st.commit, 30_000);
  return ms;
}

export async function runRaftBench(): Promise<Record<string, number>> {
  const serialN = Number(process.env['RAFT_BENCH_SERIAL'] ?? 2000);
  const ops = Number(process.env['RAFT_BENCH_OPS'] ?? 30_000);
  const trials = Number(process.env['RAFT_BENCH_TRIALS'] ?? 20);
  const c = await ProcessCluster.start({ tuning: TUNING });
  try {
    log(`raft: three servers up (tick ${TUNING.tickMs} ms, election ${TUNING.electionTicks * TUNING.tickMs}-${2 * TUNING.electionTicks * TUNING.tickMs} ms)`);
    const s = await serial(c, serialN);
    log(`serial commits (${serialN} x ${COMMAND_BYTES} B): p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms`);
    const t = await throughput(c, ops, 1000);
    log(`1,000 in flight (${ops} x ${COMMAND_BYTES} B): ${Math.round(t.perSecond)} commits/s, latency p50 ${t.p50.toFixed(1)} ms, p99 ${t.p99.toFixed(1)} ms`);
    const failovers: number[] = [];
    for (let i = 0; i < trials; i++) {
      const ms = await failoverTrial(c, i);
      failovers.push(ms);
      log(`failover ${i + 1}/${trials}: ${ms.toFixed(0)} ms`);
    }
    failovers.sort((a, b) => a - b);
    return {
      serial_p50_ms: round(s.p50),
      serial_p99_ms: round(s.p99),
      throughput_per_s: Math.round(t.perSecond),
      throughput_p99_ms: round(t.p99, 1),
      failover_median_ms: round(pct(failovers, 50), 0),
      failover_p99_ms: round(pct(failovers, 99), 0),
      failover_trials: trials,
    };
  } finally {
    await c.close(true);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runRaftBench().then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: unknown) => {
      process.stderr.write(`raft benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
