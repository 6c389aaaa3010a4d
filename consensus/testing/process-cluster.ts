/**
 * Raft servers in real child processes on loopback (consensus/testdata/raft-server.ts),
 * for the process tests, the linearizability harness and the benchmark: start, kill -9,
 * SIGSTOP/SIGCONT, restart on the same data, and talk to them over their control channels.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlRequest, ServerStatus } from './control-protocol.js';
import { ControlClient } from './control-protocol.js';
import type { FaultRules } from '../transport/faulty-transport.js';
import { NotLeaderError, YurtError } from '../../structs/errors.js';

const serverScript = join(import.meta.dirname, '..', 'testdata', 'raft-server.ts');

export interface ServerTuning {
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  snapshotThreshold?: number;
  trailingLogs?: number;
}

/** Ports handed out by this process, never handed out twice. */
const handedOut = new Set<number>();

/**
 * A free loopback port for a server process the test starts soon after. Picked below the
 * kernel's ephemeral range (32768 and up here), and checked free by binding it: a port the
 * kernel hands out for `listen(0)` may be taken again, between release and use, by any other
 * test that listens on port 0 (it happened: an agent failed with EADDRINUSE).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    const srv = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    handedOut.add(port);
    return port;
  }
  throw new Error('no free loopback port found between 20000 and 32000');
}

export class ServerProcess {
  child: ChildProcess | null = null;
  control: ControlClient | null = null;
  stopped = false;
  private exitCode: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly id: string,
    readonly dataDir: string,
    readonly raftAddress: string,
    private readonly tuning: ServerTuning,
    private bootstrap: Array<{ id: string; address: string }> | undefined,
  ) {}

  /** Spawns the process and waits until it reports ready; rejects with its startup error. */
  async start(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    const cfg = { id: this.id, dataDir: this.dataDir, raftAddress: this.raftAddress, bootstrap: this.bootstrap, ...this.tuning };
    // RAFT_SERVER_NODE_ARGS: extra node flags for the servers (e.g. --cpu-prof when profiling).
    const nodeArgs = (process.env['RAFT_SERVER_NODE_ARGS'] ?? '').split(' ').filter((x) => x !== '');
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', serverScript, JSON.stringify(cfg)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RAFT_SERVER_LOG: '1' },
    });
    this.child = child;
    this.stopped = false;
    child.stderr.pipe(createWriteStream(join(this.dataDir, `server-${process.pid}.log`), { flags: 'a' }));
    this.exitCode = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const onData = (chunk: Buffer) => {
        buf += chunk.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          child.stdout.off('data', onData);
          resolve(buf.slice(0, nl));
        }
      };
      child.stdout.on('data', onData);
      void this.exitCode.then((code) => reject(new YurtError('unavailable', `server ${this.id} exited with ${code} before it was ready`)));
    });
    const msg = JSON.parse(line) as { ready?: boolean; control?: string; error?: { code: string; message: string } };
    if (msg.error !== undefined) {
      await this.exitCode;
      throw new YurtError(msg.error.code === 'corrupted' ? 'corrupted' : 'unavailable', msg.error.message, { details: { startup: msg.error } });
    }
    this.control = await ControlClient.connect(msg.control ?? '');
    // Restarts rejoin from the stored configuration, never bootstrap again.
    this.bootstrap = undefined;
  }

  call<T = unknown>(req: ControlRequest, timeoutMs?: number): Promise<T> {
    if (this.control === null || this.stopped) return Promise.reject(new YurtError('unavailable', `server ${this.id} is not running`));
    return this.control.call<T>(req, timeoutMs);
  }

  status(timeoutMs = 2000): Promise<ServerStatus> {
    return this.call<ServerStatus>({ op: 'status' }, timeoutMs);
  }

  /** kill -9: no chance to flush or say goodbye. */
  async kill(): Promise<void> {
    if (this.child === null) return;
    this.control?.close();
    this.control = null;
    this.child.kill('SIGKILL');
    await this.exitCode;
    this.child = null;
  }

  /** SIGTERM: a clean stop. */
  async terminate(): Promise<number | null> {
    if (this.child === null) return null;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const code = await this.exitCode;
    this.control?.close();
    this.control = null;
    this.child = null;
    return code;
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
    this.stopped = true;
  }

  resume(): void {
    this.child?.kill('SIGCONT');
    this.stopped = false;
  }

  get running(): boolean {
    return this.child !== null;
  }
}

export interface ClusterOptions {
  ids?: string[];
  tuning?: ServerTuning;
  /** Keep data directories after close (for debugging). */
  keep?: boolean;
}

export class ProcessCluster {
  readonly servers = new Map<string, ServerProcess>();
  private readonly baseDir: string;

  private constructor(
    private readonly tuning: ServerTuning,
    private readonly keep: boolean,
  ) {
    this.baseDir = mkdtempSync(join(tmpdir(), 'yurt-raft-procs-'));
  }

  /** Starts a bootstrapped cluster (three servers by default) and waits for a leader. */
  static async start(opts: ClusterOptions = {}): Promise<ProcessCluster> {
    const c = new ProcessCluster({ tickMs: 20, electionTicks: 10, heartbeatTicks: 2, ...opts.tuning }, opts.keep ?? false);
    const ids = opts.ids ?? ['s1', 's2', 's3'];
    const addresses = await Promise.all(ids.map(async (id) => ({ id, address: `127.0.0.1:${await freePort()}` })));
    for (const a of addresses) c.servers.set(a.id, new ServerProcess(a.id, join(c.baseDir, a.id), a.address, c.tuning, addresses));
    await Promise.all([...c.servers.values()].map((s) => s.start()));
    await c.leader();
    return c;
  }

  /** A server process that joins later: no bootstrap, it waits to be added. */
  async spawnJoiner(id: string): Promise<ServerProcess> {
    const s = new ServerProcess(id, join(this.baseDir, id), `127.0.0.1:${await freePort()}`, this.tuning, undefined);
    this.servers.set(id, s);
    await s.start();
    return s;
  }

  get(id: string): ServerProcess {
    const s = this.servers.get(id);
    if (s === undefined) throw new Error(`no server ${id}`);
    return s;
  }

  /** Waits until exactly one running server says it leads and the others that answer agree. */
  async leader(timeoutMs = 15_000): Promise<ServerProcess> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = [...this.servers.values()].filter((s) => s.running && !s.stopped);
      const statuses = await Promise.all(live.map((s) => s.status(1000).then((st) => ({ s, st }), () => null)));
      const leaders = statuses.filter((x) => x?.st.role === 'leader');
      if (leaders.length === 1) return leaders[0]!.s;
      if (Date.now() > deadline) {
        const seen = statuses.map((x) => (x === null ? '?' : `${x.s.id}:${x.st.role}@${x.st.term}`)).join(' ');
        throw new YurtError('timeout', `no single leader within ${timeoutMs} ms (${seen})`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Writes through whichever server leads, following not-leader answers. */
  async put(key: string, value: string, timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = await this.leader(Math.max(1, deadline - Date.now()));
      try {
        return (await l.call<{ index: number }>({ op: 'put', key, value }, Math.max(1, deadline - Date.now()))).index;
      } catch (e) {
        const retry = e instanceof NotLeaderError || (e instanceof YurtError && (e.code === 'leadership_lost' || e.code === 'unavailable'));
        if (!retry || Date.now() > deadline) throw e;
      }
    }
  }

  /** Runs `req` on whichever server leads, again on the next leader if leadership moves. */
  async onLeader<T = unknown>(req: ControlRequest | ((leader: ServerProcess) => ControlRequest), timeoutMs = 30_000): Promise<{ leader: ServerProcess; result: T }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = await this.leader(Math.max(1, deadline - Date.now()));
      try {
        return { leader: l, result: await l.call<T>(typeof req === 'function' ? req(l) : req, Math.max(1, deadline - Date.now())) };
      } catch (e) {
        const moved = e instanceof NotLeaderError || (e instanceof YurtError && (e.code === 'leadership_lost' || (e.code === 'unavailable' && !e.message.includes('back-pressure'))));
        if (!moved || Date.now() > deadline) throw e;
      }
    }
  }

  async statuses(): Promise<Map<string, ServerStatus>> {
    const out = new Map<string, ServerStatus>();
    for (const s of this.servers.values()) {
      if (!s.running || s.stopped) continue;
      const st = await s.status().catch(() => null);
      if (st !== null) out.set(s.id, st);
    }
    return out;
  }

  /** Waits until every running server has applied at least `index`. */
  async converged(index: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = [...this.servers.values()].filter((s) => s.running && !s.stopped);
      const sts = await Promise.all(all.map((s) => s.status().catch(() => null)));
      if (sts.every((st) => st !== null && st.applied >= index)) return;
      if (Date.now() > deadline) throw new YurtError('timeout', `servers did not all apply ${index}: ${sts.map((st) => st?.applied ?? '?').join(' ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Tells every running server to apply `rules` to its links. */
  async faults(rulesFor: (id: string) => FaultRules): Promise<void> {
    await Promise.all(
      [...this.servers.values()].filter((s) => s.running && !s.stopped).map((s) => s.call({ op: 'faults', rules: rulesFor(s.id) }).catch(() => undefined)),
    );
  }

  /** Stops every server (SIGKILL, or SIGTERM when `graceful`) and removes the data. */
  async close(graceful = false): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => (graceful ? s.terminate() : s.kill())));
    if (!this.keep) rmSync(this.baseDir, { recursive: true, force: true });
  }

  get dir(): string {
    return this.baseDir;
  }
}
