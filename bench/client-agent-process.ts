/**
 * The client side of the client benchmark, in its own process so its RSS is the client's
 * alone: a real Client (exec and raw_exec drivers, LMDB state in a temp dir) registered with
 * the benchmark's server. Over IPC it reports, per allocation, when it arrived, when its task
 * was first reported running, and how long the driver's own start() took; on request it
 * reports its RSS after a full GC.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Driver } from '../drivers/driver.js';
import { ExecDriver } from '../drivers/exec/exec-driver.js';
import { RawExecDriver } from '../drivers/raw-exec/raw-exec-driver.js';
import { Client } from '../agent/client/client.js';

export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'alloc'; allocId: string; receivedToRunningMs: number; driverStartMs: number }
  | { type: 'failed'; allocId: string; description: string }
  | { type: 'rss'; rssBytes: number; supervisorsRssBytes: number; running: number };

export type ParentMessage = { type: 'rss' } | { type: 'stop' };

const send = (m: ChildMessage): void => void process.send?.(m);
const rpcAddr = process.argv[2];
if (rpcAddr === undefined) throw new Error('usage: client-agent-process.ts <server rpc addr>');

const received = new Map<string, number>();
const driverStart = new Map<string, number>();
const reported = new Set<string>();
const running = new Set<string>();

/** The driver as the client sees it, with start() timed: the reference the overhead is measured against. */
function timed(d: Driver): Driver {
  return new Proxy(d, {
    get(target, prop, recv) {
      if (prop === 'start') {
        return async (cfg: Parameters<Driver['start']>[0]) => {
          const t0 = performance.now();
          const h = await target.start(cfg);
          driverStart.set(cfg.allocId, performance.now() - t0);
          return h;
        };
      }
      const v: unknown = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Sum of the RSS of this process's direct children: the per-task supervisor shells. */
async function childrenRss(): Promise<number> {
  const { readdir, readFile } = await import('node:fs/promises');
  let total = 0;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const ppid = /^PPid:\s+(\d+)/m.exec(status)?.[1];
    if (Number(ppid) !== process.pid) continue;
    total += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
  }
  return total;
}

const dataDir = await mkdtemp(join(tmpdir(), 'yurt-bench-client-'));
const client = new Client({
  dataDir,
  servers: [rpcAddr],
  region: 'global',
  datacenter: 'dc1',
  name: 'bench-client',
  nodeClass: '',
  nodePool: 'default',
  meta: {},
  reserved: { cpu: 0, memoryMB: 0, diskMB: 0 },
  httpAddr: '127.0.0.1:0',
  drivers: () => [timed(new ExecDriver({})), timed(new RawExecDriver({ enabled: true }))],
  logger: pino({ level: 'warn' }),
  devices: [],
  fingerprintIntervalMs: 0,
  // The allocations of the run stay tracked: collection is measured by the GC tests, not here.
  gcMaxAllocs: 10_000,
  gcIntervalMs: 0,
  observer: {
    allocReceived: (id) => received.set(id, performance.now()),
    allocUpdated: (u) => {
      const taskRunning = Object.values(u.TaskStates).some((t) => t.State === 'running' || t.StartedAt !== null);
      if (taskRunning) running.add(u.ID);
      const dead = Object.values(u.TaskStates).every((t) => t.State === 'dead');
      if (dead) running.delete(u.ID);
      if (reported.has(u.ID)) return;
      if (u.ClientStatus === 'failed' && !driverStart.has(u.ID)) {
        // It never started: nothing to time, but the benchmark must not wait for it.
        reported.add(u.ID);
        send({ type: 'failed', allocId: u.ID, description: JSON.stringify(Object.values(u.TaskStates).flatMap((t) => t.Events.map((e) => e.DisplayMessage)).slice(-2)) });
        return;
      }
      if (!taskRunning) return;
      const t0 = received.get(u.ID);
      const ds = driverStart.get(u.ID);
      if (t0 === undefined || ds === undefined) return;
      reported.add(u.ID);
      send({ type: 'alloc', allocId: u.ID, receivedToRunningMs: performance.now() - t0, driverStartMs: ds });
    },
  },
});
await client.start();
await client.waitRegistered(30_000);
send({ type: 'ready', pid: process.pid });

process.on('message', (m: ParentMessage) => {
  if (m.type === 'rss') {
    (globalThis as { gc?: () => void }).gc?.();
    void childrenRss().then((sup) => send({ type: 'rss', rssBytes: process.memoryUsage().rss, supervisorsRssBytes: sup, running: running.size }));
  } else {
    void client
      .stopAllocs()
      .then(() => client.stop())
      .then(() => rm(dataDir, { recursive: true, force: true }))
      .finally(() => process.exit(0));
  }
});
