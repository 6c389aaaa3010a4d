/**
 * The client agent's own cost (issue #6): from an allocation received to its task running,
 * minus the driver's own start() measured in the same run (exec of /bin/true, 100 in a row
 * and 100 with 8 in flight), and the client process's RSS idle and with 100 running tasks.
 * A real server runs in this process; the client runs in a child process so its RSS is its
 * own. Goals: overhead <= 10 ms, RSS <= 80 MB idle and <= 2 MB per running task.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { compiledEntry, ROOT } from './compiled.js';
import { startTestServer } from '../agent/server/testing/test-server.js';
import type { ChildMessage, ParentMessage } from './client-agent-process.js';

const N = Number(process.env['BENCH_N'] ?? 100);
const RUNNING = Number(process.env['BENCH_RUNNING'] ?? 100);
const MB = 1024 * 1024;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;
const round = (x: number): number => Math.round(x * 100) / 100;


interface AllocSample {
  receivedToRunningMs: number;
  driverStartMs: number;
}

class ClientChild {
  private readonly waiters = new Map<string, (s: AllocSample | null) => void>();
  private readonly early = new Map<string, AllocSample | null>();
  /** Allocations whose task never started (a driver failure): counted, not timed. */
  failures: string[] = [];
  private rssWaiter: ((m: Extract<ChildMessage, { type: 'rss' }>) => void) | null = null;
  readonly ready: Promise<number>;

  constructor(readonly proc: ChildProcess) {
    let resolveReady: (pid: number) => void = () => undefined;
    this.ready = new Promise((r) => (resolveReady = r));
    proc.on('message', (m: ChildMessage) => {
      switch (m.type) {
        case 'ready':
          resolveReady(m.pid);
          break;
        case 'alloc': {
          const s = { receivedToRunningMs: m.receivedToRunningMs, driverStartMs: m.driverStartMs };
          const w = this.waiters.get(m.allocId);
          if (w) w(s);
          else this.early.set(m.allocId, s);
          break;
        }
        case 'failed': {
          this.failures.push(m.description);
          const w = this.waiters.get(m.allocId);
          if (w) w(null);
          else this.early.set(m.allocId, null);
          break;
        }
        case 'rss':
          this.rssWaiter?.(m);
          break;
      }
    });
  }

  sampleFor(allocId: string): Promise<AllocSample | null> {
    if (this.early.has(allocId)) return Promise.resolve(this.early.get(allocId) ?? null);
    return new Promise((resolve) => this.waiters.set(allocId, resolve));
  }

  rss(): Promise<Extract<ChildMessage, { type: 'rss' }>> {
    return new Promise((resolve) => {
      this.rssWaiter = resolve;
      this.proc.send({ type: 'rss' } satisfies ParentMessage);
    });
  }
}

async function http<T>(base: string, path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(base + path, init);
  const text = await r.text();
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${r.status} ${text}`);
  return JSON.parse(text) as T;
}

function job(id: string, type: 'batch' | 'service', count: number, command: string, args: string[], driver = 'exec'): unknown {
  return {
    ID: id,
    Type: type,
    Datacenters: ['dc1'],
    TaskGroups: [
      {
        Name: 'g',
        Count: count,
        RestartPolicy: { Attempts: 0, Mode: 'fail' },
        Tasks: [{ Name: 't', Driver: driver, Config: { command, args }, Resources: { CPU: 10, MemoryMB: 10 } }],
      },
    ],
  };
}

/** Registers the job and resolves with its allocations' IDs once the scheduler has placed `count`. */
async function placed(base: string, id: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const allocs = await http<Array<{ ID: string }>>(base, `/v1/job/${id}/allocations`);
    if (allocs.length >= count) return allocs.map((a) => a.ID);
    if (Date.now() > deadline) throw new Error(`job ${id}: ${allocs.length} of ${count} allocations placed`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function runOne(base: string, child: ClientChild, id: string): Promise<AllocSample | null> {
  await http(base, '/v1/jobs', { method: 'POST', body: JSON.stringify({ Job: job(id, 'batch', 1, '/bin/true', []) }) });
  const [allocId] = await placed(base, id, 1);
  return child.sampleFor(allocId!);
}

function summarize(samples: AllocSample[]): { overheadP50: number; overheadP99: number; totalP50: number; driverP50: number } {
  const overhead = samples.map((s) => s.receivedToRunningMs - s.driverStartMs);
  return {
    overheadP50: round(pct(overhead, 0.5)),
    overheadP99: round(pct(overhead, 0.99)),
    totalP50: round(pct(samples.map((s) => s.receivedToRunningMs), 0.5)),
    driverP50: round(pct(samples.map((s) => s.driverStartMs), 0.5)),
  };
}

export async function runClientBench(): Promise<Record<string, number>> {
  const ts = await startTestServer({ numSchedulers: 2 });
  const viaTsx = process.env['BENCH_CLIENT_TSX'] === '1';
  const script = viaTsx ? `${ROOT}bench/client-agent-process.ts` : await compiledEntry('client-agent-process');
  const execArgv = viaTsx ? ['--import', 'tsx', '--expose-gc'] : ['--expose-gc'];
  const child = new ClientChild(fork(script, [ts.rpcAddr], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    await child.ready;
    // Let start-up garbage and timers settle before the idle figure.
    await new Promise((r) => setTimeout(r, 3000));
    const idle = await child.rss();

    // raw_exec: the same client path and per-task supervisor as exec, without a chroot per task.
    await http(ts.httpUrl, '/v1/jobs', { method: 'POST', body: JSON.stringify({ Job: job('sleepers', 'service', RUNNING, '/bin/sleep', ['3600'], 'raw_exec') }) });
    const deadline = Date.now() + 120_000;
    let loaded = await child.rss();
    while (loaded.running < RUNNING) {
      if (Date.now() > deadline) throw new Error(`only ${loaded.running} of ${RUNNING} tasks running`);
      await new Promise((r) => setTimeout(r, 500));
      loaded = await child.rss();
    }
    await new Promise((r) => setTimeout(r, 2000));
    loaded = await child.rss();
    await http(ts.httpUrl, '/v1/job/sleepers', { method: 'DELETE' });
    for (let stopDeadline = Date.now() + 120_000; (await child.rss()).running > 0; ) {
      if (Date.now() > stopDeadline) throw new Error('the sleepers did not stop');
      await new Promise((r) => setTimeout(r, 500));
    }

    const sequential: AllocSample[] = [];
    for (let i = 0; i < N; i++) {
      const r = await runOne(ts.httpUrl, child, `seq-${i}`);
      if (r) sequential.push(r);
    }

    const concurrent: AllocSample[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < N) {
          const i = next++;
          const r = await runOne(ts.httpUrl, child, `par-${i}`);
          if (r) concurrent.push(r);
        }
      }),
    );

    if (child.failures.length > 0) process.stderr.write(`    ${child.failures.length} tasks failed to start, e.g. ${child.failures[0]}\n`);
    const seq = summarize(sequential);
    const par = summarize(concurrent);
    return {
      overhead_p50_ms: seq.overheadP50,
      overhead_p99_ms: seq.overheadP99,
      received_to_running_p50_ms: seq.totalP50,
      driver_start_p50_ms: seq.driverP50,
      overhead_c8_p50_ms: par.overheadP50,
      overhead_c8_p99_ms: par.overheadP99,
      received_to_running_c8_p50_ms: par.totalP50,
      driver_start_c8_p50_ms: par.driverP50,
      rss_idle_mb: round(idle.rssBytes / MB),
      rss_running_mb: round(loaded.rssBytes / MB),
      rss_per_task_mb: round((loaded.rssBytes - idle.rssBytes) / MB / RUNNING),
      supervisor_rss_per_task_mb: round((loaded.supervisorsRssBytes - idle.supervisorsRssBytes) / MB / RUNNING),
      running_tasks: loaded.running,
      client_via_tsx: viaTsx ? 1 : 0,
      tasks_failed_to_start: child.failures.length,
    };
  } finally {
    child.proc.send({ type: 'stop' } satisfies ParentMessage);
    await new Promise((r) => child.proc.once('exit', r));
    await ts.stop();
  }
}
