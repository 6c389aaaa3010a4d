/**
 * B2, end to end: JOBS service jobs of COUNT allocations each (default 1,000 x 100 = 100,000)
 * onto NODES simulated nodes (default 5,000), through the real machinery of one server: job
 * registration through Raft (durable LMDB log), the evaluation broker, scheduler workers
 * (one per core), the plan applier re-checking every node, and the FSM writing the
 * allocations. Nodes are registered through Raft like real clients; they do not run tasks
 * (that is the client benchmark's business) and their heartbeat TTL is set beyond the run.
 *
 * Figures: placements per second from the first submission to the last allocation committed,
 * and the p99 of each job's submit-to-all-placed latency. Sizes: BENCH_B2_NODES,
 * BENCH_B2_JOBS, BENCH_B2_COUNT. BENCH_B2_PROFILE=<file> writes a CPU profile of the placement
 * window alone (not of node registration) for Chrome DevTools. It runs compiled, in a child
 * process with --max-semi-space-size=64, as the server runs (runPlacementBench).
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { availableParallelism } from 'node:os';
import { startTestServer } from '../agent/server/testing/test-server.js';
import { testGroup, testJob, testNode, testTask } from '../scheduler/testing/fixtures.js';
import { compiledEntry } from './compiled.js';

const NODES = Number(process.env['BENCH_B2_NODES'] ?? 5000);
const JOBS = Number(process.env['BENCH_B2_JOBS'] ?? 1000);
const COUNT = Number(process.env['BENCH_B2_COUNT'] ?? 100);
const TIMEOUT_MS = 20 * 60_000;

async function pool<T>(items: T[], concurrency: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * B2 as operators would see it: in a child process running the compiled code (bench/compiled.ts),
 * with the server's young generation (--max-semi-space-size=64, as its systemd unit and Docker
 * image set). BENCH_B2_TSX=1 measures in this process instead, through the tsx loader.
 *
 * One run takes about ten seconds, and a shared machine's speed can move by a quarter between
 * two such runs, so a single run says little: B2 runs BENCH_B2_RUNS times
 * (default 3), each in a fresh process with a fresh data directory, and reports the run with
 * the median throughput, with the slowest and fastest beside it.
 */
export async function runPlacementBench(): Promise<Record<string, number>> {
  if (process.env['BENCH_B2_TSX'] === '1') return { ...(await measurePlacement()), b2_via_tsx: 1 };
  const script = await compiledEntry('placement-child');
  const runs = Math.max(1, Number(process.env['BENCH_B2_RUNS'] ?? 3));
  const results: Array<Record<string, number>> = [];
  for (let i = 0; i < runs; i++) {
    const r = await placementChild(script);
    if (runs > 1) process.stderr.write(`    run ${i + 1}/${runs}: ${r['b2_placements_per_s']} placements/s, p99 ${r['b2_p99_ms']} ms\n`);
    results.push(r);
  }
  return summarizeRuns(results);
}

/** The run with the median throughput, with every run's slowest and fastest throughput beside it. */
export function summarizeRuns(results: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const rate = (r: Record<string, number>): number => r['b2_placements_per_s'] ?? 0;
  const sorted = [...results].sort((a, b) => rate(a) - rate(b));
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error('B2 made no runs');
  return {
    ...median,
    b2_runs: sorted.length,
    b2_placements_per_s_min: rate(sorted[0]!),
    b2_placements_per_s_max: rate(sorted[sorted.length - 1]!),
  };
}

/** One measurement in a fresh child process. */
async function placementChild(script: string): Promise<Record<string, number>> {
  const child = fork(script, [], { execArgv: ['--max-semi-space-size=64', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result: Record<string, number> | null = null;
    child.on('message', (m) => {
      const msg = m as { result?: Record<string, number>; error?: string };
      if (msg.error !== undefined) reject(new Error(`B2 failed in its child process: ${msg.error}`));
      else if (msg.result !== undefined) result = { ...msg.result, b2_via_tsx: 0 };
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (result !== null) resolve(result);
      else reject(new Error(`B2's child process exited (${signal ?? `code ${code}`}) without a result`));
    });
  });
}

/**
 * The server's memory holding the run's nodes and allocations: the heap after a full collection
 * (where the child runs with --expose-gc; -1 otherwise) and the process's resident set.
 */
function settledMemory(): { rssMb: number; heapMb: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
  const m = process.memoryUsage();
  return { rssMb: Math.round(m.rss / 2 ** 20), heapMb: gc === undefined ? -1 : Math.round(m.heapUsed / 2 ** 20) };
}

/** The measurement itself, in whatever process runs it. */
export async function measurePlacement(): Promise<Record<string, number>> {
  const workers = Number(process.env['BENCH_B2_WORKERS'] ?? availableParallelism());
  const ts = await startTestServer({
    numSchedulers: workers,
    raftTickMs: Number(process.env["BENCH_B2_TICK_MS"] ?? 50),
    heartbeat: { minHeartbeatTtlMs: 3_600_000, heartbeatGraceMs: 3_600_000, failoverTtlMs: 3_600_000 },
  });
  const state = ts.server.state;
  try {
    const t0 = performance.now();
    const nodeIds = Array.from({ length: NODES }, (_, i) => `b2-node-${String(i).padStart(5, '0')}`);
    await pool(nodeIds, 64, async (id) => {
      await ts.endpoints.nodeRegister(testNode(id, { Name: id }, 14_000, 32_000));
    });
    process.stderr.write(`    registered ${NODES} nodes in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    const submitted = new Map<string, number>();
    const placedPerJob = new Map<string, number>();
    const latencies: number[] = [];
    const seen = new Set<string>();
    let placed = 0;
    let lastPlacedAt = 0;
    let done: () => void = () => undefined;
    const allPlaced = new Promise<void>((resolve) => (done = resolve));
    const off = state.onChange((c) => {
      if (!c.tables.has('allocs')) return;
      for (const o of c.objects) {
        if (o.table !== 'allocs' || o.deleted || typeof o.key !== 'string' || seen.has(o.key)) continue;
        seen.add(o.key);
        const a = state.allocById(o.key);
        if (!a) continue;
        placed++;
        const n = (placedPerJob.get(a.JobID) ?? 0) + 1;
        placedPerJob.set(a.JobID, n);
        if (n === COUNT) latencies.push(performance.now() - (submitted.get(a.JobID) ?? 0));
      }
      lastPlacedAt = performance.now();
      if (placed >= JOBS * COUNT) done();
    });

    const profile = process.env['BENCH_B2_PROFILE'];
    const session = profile ? new Session() : null;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const jobIds = Array.from({ length: JOBS }, (_, i) => `b2-job-${String(i).padStart(4, '0')}`);
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    const submitting = pool(jobIds, 32, async (id) => {
      const job = testJob({
        ID: id,
        Name: id,
        TaskGroups: [testGroup({ Count: COUNT, Tasks: [testTask({ Resources: { CPU: 100, Cores: 0, MemoryMB: 64, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })] })],
      });
      submitted.set(id, performance.now());
      await ts.endpoints.jobRegister(job);
    });
    const timer = setTimeout(done, TIMEOUT_MS);
    await submitting;
    const submitS = (performance.now() - start) / 1000;
    let lastReport = performance.now();
    const progress = setInterval(() => {
      if (performance.now() - lastReport < 10_000) return;
      lastReport = performance.now();
      process.stderr.write(`    ${placed} / ${JOBS * COUNT} placed\n`);
    }, 1000);
    await allPlaced;
    if (session && profile) {
      const { profile: p } = await session.post('Profiler.stop');
      writeFileSync(profile, JSON.stringify(p));
      session.disconnect();
    }
    clearTimeout(timer);
    clearInterval(progress);
    off();
    const elapsedS = (lastPlacedAt - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const memory = settledMemory();
    latencies.sort((a, b) => a - b);
    return {
      b2_nodes: NODES,
      b2_allocations: placed,
      b2_expected: JOBS * COUNT,
      b2_placements_per_s: Math.round(placed / elapsedS),
      b2_p50_ms: Math.round(percentile(latencies, 50)),
      b2_p99_ms: Math.round(percentile(latencies, 99)),
      b2_elapsed_s: Math.round(elapsedS * 10) / 10,
      b2_submit_s: Math.round(submitS * 10) / 10,
      // CPU time of the whole process (every thread) per placement: steadier than wall time on
      // a shared machine, and what a faster path shows first.
      b2_cpu_us_per_placement: Math.round((cpu.user + cpu.system) / Math.max(1, placed)),
      b2_workers: workers,
      b2_rss_mb: memory.rssMb,
      b2_heap_mb: memory.heapMb,
    };
  } finally {
    await ts.stop();
  }
}
