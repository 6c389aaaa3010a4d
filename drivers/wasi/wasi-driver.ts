/**
 * wasi: runs WebAssembly modules built for WASI preview 1 (`wasm32-wasi` commands) with
 * Node's built-in `node:wasi`, each task in its own runner process (runner.ts) taken from a
 * warm pool (runner-pool.ts). See README.md in this folder for the choices and the limits.
 *
 *   start: config → (download) → module file inside the alloc dir → prepared module
 *          (content-hashed, memory turned into an import: module-memory.ts) → a runner
 *          opens the log files, instantiates with preopens /local and /alloc and a memory
 *          capped at the task's limit, answers `started`, runs `_start`.
 *   end:   the runner writes an exit record and exits; the driver reads it when the process
 *          is gone (exit event while this agent started it, /proc polling after a restart).
 *   stop:  the runner process is signalled (and SIGKILLed after the timeout); a module
 *          cannot catch signals, so it ends at once even in a busy loop.
 */
import { taskStatus } from '../task-status.js';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Driver, DriverCapabilities, DriverFingerprint, ExitResult, TaskConfig, TaskHandle, TaskStats, TaskStatus } from '../driver.js';
import { YurtError } from '../../structs/errors.js';
import { CLOCK_TICKS_PER_SECOND, isProcessAlive, readProcStat, readRssBytes } from '../process/proc-stat.js';
import { parseSignal, sendSignal } from '../process/signals.js';
import { DEFAULT_ARTIFACT_LIMITS, fetchArtifact, type ArtifactLimits } from './artifact-fetch.js';
import { ModuleCache, type PreparedModule } from './module-cache.js';
import { modulePathFor, realModulePath } from './module-location.js';
import { MAX_WASM32_PAGES, WASM_PAGE_BYTES } from './module-memory.js';
import { RunnerPool, defaultRunnerCommand, type Runner, type RunnerCommand, type RunnerExit } from './runner-pool.js';
import { decodeRecordedExit, type FromRunner, type MemorySpec, type RunSpec } from './runner-protocol.js';

type StartedReply = Extract<FromRunner, { type: 'started' }>;
import { parseWasiConfig, validateWasiConfig } from './wasi-config.js';
import { decodeWasiTaskState, encodeWasiTaskState, type WasiTaskState } from './wasi-task-state.js';

export interface WasiDriverOptions {
  /**
   * Where prepared modules and the runner log are kept. Default: `yurt-wasi-<uid>` in the
   * system temp dir. The agent should pass a directory under its data dir.
   */
  cacheDir?: string;
  /** Idle runner processes kept ready (each ~45 MB RSS). Default 2; 0 launches one per start (~60 ms). */
  warmRunners?: number;
  /** How long a runner may take to compile and check a module before start fails. Default 60 s. */
  startTimeoutMs?: number;
  /** How often a recovered task's runner is checked for exit. Default 250 ms. */
  pollIntervalMs?: number;
  /** How long to wait for a runner to disappear after SIGKILL before `stop` fails. Default 10 s. */
  killGraceMs?: number;
  /** Limits for `config.artifact` downloads. */
  artifact?: Partial<ArtifactLimits>;
  /** Root of procfs, for tests. Default /proc. */
  procRoot?: string;
  /** How runners are launched (tests). Default: runner.js / runner.ts next to this file. */
  runnerCommand?: RunnerCommand;
}

/** Counters of the two caches: prepared module files and compiled modules in warm runners. */
export interface WasiCacheStats {
  /** Starts that found the module already prepared (hashed, rewritten, on disk). */
  preparedHits: number;
  preparedMisses: number;
  /** Starts whose runner had the module compiled before the task was handed to it. */
  compiledHits: number;
  compiledMisses: number;
}

interface TrackedTask {
  taskId: string;
  state: WasiTaskState;
  startedAt: number;
  child: ChildProcess | null;
  result: ExitResult | null;
  finalizing: boolean;
  done: Promise<ExitResult>;
  settle: (r: ExitResult) => void;
  poll: NodeJS.Timeout | null;
  lastSample: { cpuNs: number; at: number } | null;
  /** The last signal this driver sent the runner (0: none), for a recovered task that ends without a record. */
  sentSignal: number;
}

/** Nomad's task dir variables, as the module sees the directories (its preopens). */
const GUEST_DIRS = { NOMAD_TASK_DIR: '/local', NOMAD_ALLOC_DIR: '/alloc', NOMAD_SECRETS_DIR: '/secrets' } as const;

export class WasiDriver implements Driver {
  readonly name = 'wasi';
  private readonly tasks = new Map<string, TrackedTask>();
  private readonly cacheDir: string;
  private readonly modules: ModuleCache;
  private readonly pool: RunnerPool;
  private readonly command: RunnerCommand;
  private readonly startTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly killGraceMs: number;
  private readonly artifactLimits: ArtifactLimits;
  private readonly procRoot: string;
  private cacheDirReady: Promise<void> | null = null;
  private compiledHits = 0;
  private compiledMisses = 0;

  constructor(opts: WasiDriverOptions = {}) {
    this.cacheDir = opts.cacheDir ?? join(tmpdir(), `yurt-wasi-${process.getuid?.() ?? 'user'}`);
    this.modules = new ModuleCache(join(this.cacheDir, 'modules'));
    this.command = opts.runnerCommand ?? defaultRunnerCommand();
    this.pool = new RunnerPool({
      size: Math.max(0, Math.floor(opts.warmRunners ?? 2)),
      command: this.command,
      logPath: join(this.cacheDir, 'runner.log'),
      modulePath: (hash) => this.modules.get(hash)?.path,
    });
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.pollIntervalMs = opts.pollIntervalMs ?? 250;
    this.killGraceMs = opts.killGraceMs ?? 10_000;
    this.artifactLimits = { ...DEFAULT_ARTIFACT_LIMITS, ...opts.artifact };
    this.procRoot = opts.procRoot ?? '/proc';
  }

  async fingerprint(): Promise<DriverFingerprint> {
    const unhealthy = (why: string): DriverFingerprint => ({
      detected: true,
      healthy: false,
      healthDescription: why,
      attributes: {},
    });
    // Checked without loading it: loading node:wasi prints an ExperimentalWarning.
    if (!builtinModules.includes('wasi')) {
      return { detected: false, healthy: false, healthDescription: 'this Node.js has no node:wasi module', attributes: {} };
    }
    if (this.command.problem !== undefined) return unhealthy(this.command.problem);
    if ((await stat(this.command.script).catch(() => null)) === null) {
      return unhealthy(`the WASI runner script ${this.command.script} is missing`);
    }
    try {
      await this.ensureCacheDir();
    } catch (e) {
      return unhealthy((e as Error).message);
    }
    // The client fingerprints at startup: warming the pool now makes the first start fast.
    this.pool.fill();
    return {
      detected: true,
      healthy: true,
      healthDescription: 'Healthy',
      attributes: {
        'driver.wasi': '1',
        'driver.wasi.runtime': 'node:wasi',
        'driver.wasi.version': process.versions.node,
      },
    };
  }

  capabilities(): DriverCapabilities {
    // No signals: WASI preview 1 has no way to deliver one to a module. No filesystem
    // isolation claimed: the module reaches only its preopens, but Node documents that
    // node:wasi does not give the sandboxing guarantees of a hardened WASI runtime.
    return { sendSignals: false, exec: false, fsIsolation: 'none', hostEnv: false };
  }

  validateConfig(config: Record<string, unknown>): string[] {
    return validateWasiConfig(config);
  }

  cacheStats(): WasiCacheStats {
    const m = this.modules.stats();
    return {
      preparedHits: m.hits,
      preparedMisses: m.misses,
      compiledHits: this.compiledHits,
      compiledMisses: this.compiledMisses,
    };
  }

  async start(cfg: TaskConfig): Promise<TaskHandle> {
    const config = parseWasiConfig(cfg.task.Config, `task "${cfg.task.Name}" config for driver wasi`);
    const prev = this.tasks.get(cfg.id);
    if (prev !== undefined) {
      if (prev.result === null) throw new YurtError('conflict', `task ${cfg.id} is already running`);
      await this.destroy(cfg.id);
    }
    const dir = await stat(cfg.taskDir).catch(() => null);
    if (dir === null || !dir.isDirectory()) {
      throw new YurtError('invalid_argument', `task dir ${cfg.taskDir} does not exist`);
    }
    if (this.command.problem !== undefined) throw new YurtError('unavailable', `wasi: ${this.command.problem}`);
    await this.ensureCacheDir();

    const wanted = modulePathFor(config.module, cfg.taskDir, cfg.allocDir);
    if (config.artifact !== null) await fetchArtifact(config.artifact, wanted, this.artifactLimits);
    const modulePath = await realModulePath(config.module, wanted, cfg.allocDir);
    const prepared = await this.modules.prepare(modulePath);
    const memory = memorySpec(prepared, cfg, config.module);

    const localDir = join(cfg.taskDir, 'local');
    const allocShared = join(cfg.allocDir, 'alloc');
    const secretsDir = join(cfg.taskDir, 'secrets');
    await Promise.all([
      mkdir(localDir, { recursive: true }),
      mkdir(allocShared, { recursive: true }),
      mkdir(dirname(cfg.stdoutPath), { recursive: true }),
      mkdir(dirname(cfg.stderrPath), { recursive: true }),
    ]);
    const preopens: Record<string, string> = { '/local': localDir, '/alloc': allocShared };
    const hasSecrets = (await stat(secretsDir).catch(() => null))?.isDirectory() === true;
    if (hasSecrets) preopens['/secrets'] = secretsDir;

    const env = { ...cfg.env };
    for (const [key, guest] of Object.entries(GUEST_DIRS)) {
      if (key in env && (guest !== '/secrets' || hasSecrets)) env[key] = guest;
    }
    const runId = randomBytes(6).toString('hex');
    const spec: RunSpec = {
      hash: prepared.hash,
      path: prepared.path,
      // argv[0] is the module as the job names it, as a shell passes a program's own path.
      args: [config.module, ...config.args],
      env,
      preopens,
      stdoutPath: cfg.stdoutPath,
      stderrPath: cfg.stderrPath,
      statusPath: join(cfg.taskDir, `.yurt-wasi-exit-${runId}`),
      memory,
      hasStartFunction: prepared.hasStartFunction,
    };

    const runner = this.pool.take(prepared.hash);
    let reply;
    try {
      reply = await this.handOver(runner, spec, config.module);
    } finally {
      setImmediate(() => this.pool.fill());
    }
    if (reply.compiledBy === 'prime') this.compiledHits++;
    else this.compiledMisses++;

    const state: WasiTaskState = {
      version: 1,
      runId,
      pid: reply.pid,
      pidStart: reply.pidStart,
      statusPath: spec.statusPath,
      moduleHash: prepared.hash,
    };
    const startedAt = Date.now();
    const t = this.track(cfg.id, state, startedAt, runner.child);
    const onExit = (x: RunnerExit) => void this.finalize(t, x);
    if (runner.exit !== null) onExit(runner.exit);
    else runner.child.once('exit', (code, signal) => onExit({ code, signal }));
    return { driver: this.name, taskId: cfg.id, startedAt, state: encodeWasiTaskState(state) };
  }

  async wait(taskId: string): Promise<ExitResult> {
    return this.get(taskId).done;
  }

  /**
   * Signal the runner, wait up to `timeoutMs`, then SIGKILL. A module cannot catch signals,
   * so every signal whose default action ends a process ends the task at once; only those a
   * process ignores by default (and SIGUSR1, which the runner holds) wait for the timeout.
   */
  async stop(taskId: string, signal: string, timeoutMs: number): Promise<void> {
    const t = this.get(taskId);
    if (t.result !== null) return;
    const sig = parseSignal(signal);
    if (sig.name !== 'SIGKILL' && (await this.runnerAlive(t))) {
      t.sentSignal = sig.number;
      sendSignal(t.state.pid, sig.name);
      if (await this.exitedWithin(t, timeoutMs)) return;
    }
    if (await this.runnerAlive(t)) {
      t.sentSignal = 9;
      sendSignal(t.state.pid, 'SIGKILL');
    }
    if (await this.exitedWithin(t, this.killGraceMs)) return;
    throw new YurtError('timeout', `wasi: task ${taskId} still running ${this.killGraceMs} ms after SIGKILL`);
  }

  async signal(taskId: string, signal: string): Promise<void> {
    const t = this.get(taskId);
    parseSignal(signal);
    if (t.result !== null) throw new YurtError('conflict', `task ${taskId} is not running`);
    throw new YurtError(
      'invalid_argument',
      'wasi tasks cannot receive signals: WASI preview 1 has no signal delivery (stop the task to end it)',
    );
  }

  async destroy(taskId: string): Promise<void> {
    const t = this.tasks.get(taskId);
    if (t === undefined) return;
    if (t.result === null) await this.stop(taskId, 'SIGKILL', 0);
    await unlink(t.state.statusPath).catch(() => undefined);
    if (t.poll !== null) clearTimeout(t.poll);
    this.tasks.delete(taskId);
  }

  /**
   * Reattach after an agent restart: runners are separate processes in their own sessions,
   * so tasks keep running while the agent is away. True when the runner is still running
   * (wait() resolves when it ends), and when it ended but left its exit record (wait()
   * resolves at once with it). False when it is gone without a record: the client starts
   * the task again.
   */
  async recover(handle: TaskHandle): Promise<boolean> {
    if (handle.driver !== this.name) {
      throw new YurtError('invalid_argument', `handle of driver ${handle.driver} given to ${this.name}`);
    }
    if (this.tasks.has(handle.taskId)) return true;
    const state = decodeWasiTaskState(handle.state);
    const alive = await isProcessAlive(state.pid, state.pidStart, this.procRoot);
    if (!alive && (await readRecord(state.statusPath)) === null) return false;
    const t = this.track(handle.taskId, state, handle.startedAt, null);
    if (alive) this.schedulePoll(t);
    else await this.finalize(t, null);
    return true;
  }

  /** CPU and RSS of the runner process (Node itself, ~40 MB, plus the module's memory and code). */
  async inspect(taskId: string): Promise<TaskStatus | null> {
    const t = this.tasks.get(taskId);
    return t ? taskStatus(t, t.state) : null;
  }

  async stats(taskId: string): Promise<TaskStats | null> {
    const t = this.get(taskId);
    if (t.result !== null) return null;
    const [st, rssBytes] = await Promise.all([
      readProcStat(t.state.pid, this.procRoot),
      readRssBytes(t.state.pid, this.procRoot),
    ]);
    if (st === null || st.starttime !== t.state.pidStart) return null;
    const cpuNs = ((st.utime + st.stime) / CLOCK_TICKS_PER_SECOND) * 1e9;
    const now = Date.now();
    const prev = t.lastSample ?? { cpuNs: 0, at: t.startedAt };
    t.lastSample = { cpuNs, at: now };
    const wallNs = Math.max(1, now - prev.at) * 1e6;
    return { timestamp: now, cpuPercent: Math.max(0, ((cpuNs - prev.cpuNs) / wallNs) * 100), memoryRssBytes: rssBytes };
  }

  /** End the warm runners (running tasks go on). For agent shutdown and tests. */
  async close(): Promise<void> {
    this.pool.close();
    for (const t of this.tasks.values()) if (t.poll !== null) clearTimeout(t.poll);
  }

  /** Send the task to the runner and wait for `started`; a runner that fails is killed. */
  private async handOver(runner: Runner, spec: RunSpec, module: string): Promise<StartedReply> {
    runner.send({ type: 'run', spec });
    let reply;
    try {
      reply = await runner.reply(this.startTimeoutMs);
    } catch (e) {
      runner.kill();
      if (e instanceof YurtError) {
        throw new YurtError(e.code, `${e.message} (runner log: ${join(this.cacheDir, 'runner.log')})`, { cause: e });
      }
      throw e;
    }
    switch (reply.type) {
      case 'started':
        return reply;
      case 'failed':
        runner.kill();
        throw new YurtError(reply.fault === 'module' ? 'invalid_argument' : 'internal', `wasi: module ${module}: ${reply.message}`);
      case 'primed':
        runner.kill();
        throw new YurtError('internal', 'wasi: the runner answered run with primed');
    }
  }

  /** The cache dir is created private to this user; a pre-existing one must be ours. */
  private ensureCacheDir(): Promise<void> {
    this.cacheDirReady ??= (async () => {
      await mkdir(this.cacheDir, { recursive: true, mode: 0o700 });
      const st = await lstat(this.cacheDir);
      const uid = process.getuid?.();
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
        throw new YurtError('unavailable', `wasi: cache dir ${this.cacheDir} is not a directory owned by this user`);
      }
    })();
    const p = this.cacheDirReady;
    p.catch(() => (this.cacheDirReady = null));
    return p;
  }

  private get(taskId: string): TrackedTask {
    const t = this.tasks.get(taskId);
    if (t === undefined) throw new YurtError('not_found', `wasi: no task ${taskId}`);
    return t;
  }

  private track(taskId: string, state: WasiTaskState, startedAt: number, child: ChildProcess | null): TrackedTask {
    let settle: (r: ExitResult) => void = () => undefined;
    const done = new Promise<ExitResult>((res) => (settle = res));
    const t: TrackedTask = {
      taskId, state, startedAt, child, result: null, finalizing: false,
      done, settle, poll: null, lastSample: null, sentSignal: 0,
    };
    this.tasks.set(taskId, t);
    return t;
  }

  private schedulePoll(t: TrackedTask): void {
    t.poll = setTimeout(() => {
      t.poll = null;
      void (async () => {
        if (t.result !== null) return;
        if (await this.runnerAlive(t)) this.schedulePoll(t);
        else await this.finalize(t, null);
      })();
    }, this.pollIntervalMs);
  }

  /** The runner is gone: read its exit record (or tell what is known), settle wait(). */
  private async finalize(t: TrackedTask, exit: RunnerExit | null): Promise<void> {
    if (t.result !== null || t.finalizing) return;
    t.finalizing = true;
    let result: ExitResult;
    const record = await readRecord(t.state.statusPath);
    const signalled = exit?.signal != null ? parseSignal(exit.signal).number : t.sentSignal;
    if (record !== null) {
      result = { exitCode: record.exitCode, signal: 0, oomKilled: record.oomKilled };
    } else if (signalled > 0) {
      // Reported as a process killed by signal N is: exit code 128+N with the signal, as Nomad does.
      result = { exitCode: 128 + signalled, signal: signalled, oomKilled: false };
    } else {
      const how = exit?.code != null ? ` (exit code ${exit.code})` : '';
      result = {
        exitCode: -1,
        signal: 0,
        oomKilled: false,
        err: `wasi runner ${t.state.pid} ended${how} without recording the module's exit`,
      };
    }
    t.result = result;
    if (t.poll !== null) clearTimeout(t.poll);
    t.poll = null;
    t.child = null;
    t.settle(result);
  }

  private async runnerAlive(t: TrackedTask): Promise<boolean> {
    if (t.child !== null && t.child.exitCode === null && t.child.signalCode === null) return true;
    return t.state.pidStart > 0 && isProcessAlive(t.state.pid, t.state.pidStart, this.procRoot);
  }

  private async exitedWithin(t: TrackedTask, ms: number): Promise<boolean> {
    if (t.result !== null) return true;
    if (ms <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((res) => (timer = setTimeout(() => res(false), ms)));
    const r = await Promise.race([t.done.then(() => true as const), timeout]);
    clearTimeout(timer);
    return r;
  }
}

async function readRecord(path: string) {
  const text = await readFile(path, 'utf8').catch(() => null);
  return text === null ? null : decodeRecordedExit(text);
}

/**
 * The memory the runner creates for the module: the module's own initial size, and as
 * maximum the smaller of its declared maximum and the task's limit (memory_max when
 * oversubscription sets one, else memory; linear memory never shrinks, so the hard limit
 * is the one that matters).
 */
function memorySpec(prepared: PreparedModule, cfg: TaskConfig, module: string): MemorySpec | null {
  if (prepared.memory === null) return null;
  const { MemoryMB, MemoryMaxMB } = cfg.resources.Memory;
  const limitMB = MemoryMaxMB > 0 ? Math.max(MemoryMaxMB, MemoryMB) : MemoryMB;
  const capPages = limitMB > 0 ? Math.min(MAX_WASM32_PAGES, Math.floor((limitMB * 1024 * 1024) / WASM_PAGE_BYTES)) : MAX_WASM32_PAGES;
  const { initialPages, maximumPages } = prepared.memory.limits;
  if (initialPages > capPages) {
    const mib = (initialPages * WASM_PAGE_BYTES) / 1048576;
    throw new YurtError(
      'invalid_argument',
      `module ${module} needs ${mib} MiB of linear memory to start (${initialPages} pages of 64 KiB), ` +
        `more than the task's memory of ${limitMB} MB: raise resources.memory`,
    );
  }
  const declared = maximumPages ?? MAX_WASM32_PAGES;
  return {
    module: prepared.memory.module,
    name: prepared.memory.name,
    initialPages,
    maximumPages: Math.min(declared, capPages),
    limitedByTask: capPages < declared,
  };
}
