/**
 * The lifecycle shared by raw_exec and exec: start under a supervisor (supervisor.ts),
 * wait, stop with signal + timeout + kill, recover after an agent restart, stats, destroy.
 * A subclass supplies the program line (namespaces) and the isolation (cgroups).
 *
 * How the end of a task is noticed: while this agent process started the task it is the
 * supervisor's parent and gets its exit event; after a restart the driver polls the
 * supervisor's /proc entry (pid + start time) and then reads the recorded status.
 */
import { taskStatus } from '../task-status.js';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Driver, DriverCapabilities, DriverFingerprint, ExecOptions, ExecResult, ExitResult, TaskConfig, TaskHandle, TaskStats, TaskStatus } from '../driver.js';
import { runExecLine, type ExecLine } from './process-exec.js';
import { ValidationError, YurtError } from '../../structs/errors.js';
import { commandConfig, findProgram, resolveCommand } from './command-config.js';
import type { ResourceUsage, TaskIsolation } from './isolation.js';
import { CLOCK_TICKS_PER_SECOND, isProcessAlive, readProcStat, readRssBytes, sessionMembers } from './proc-stat.js';
import { killSession, parseSignal, signalGroup } from './signals.js';
import { exitResultFromStatus, launchSupervised, readExitStatus } from './supervisor.js';
import { decodeTaskState, encodeTaskState, type ProcessTaskState } from './task-state.js';

export interface SupervisedDriverOptions {
  /** How often a recovered task's supervisor is checked for exit. Default 250 ms. */
  pollIntervalMs?: number;
  /** How long to wait for a task to disappear after SIGKILL before `stop` fails. Default 10 s. */
  killGraceMs?: number;
  /** Root of procfs, for tests. Default /proc. */
  procRoot?: string;
}

/** What a subclass decides for one task. */
export interface LaunchPlan {
  /** Program line run in the task's new session, absolute paths. */
  argv: string[];
  /** The program line reports "ready" on fd 3 (see LaunchSpec.reportsReady). */
  reportsReady?: boolean;
  isolation: TaskIsolation | null;
  /** The task's environment when the driver changes it (paths inside a chroot); default cfg.env. */
  env?: Record<string, string>;
}

interface TrackedTask {
  taskId: string;
  state: ProcessTaskState;
  isolation: TaskIsolation | null;
  startedAt: number;
  child: ChildProcess | null;
  result: ExitResult | null;
  finalizing: boolean;
  done: Promise<ExitResult>;
  settle: (r: ExitResult) => void;
  poll: NodeJS.Timeout | null;
  lastSample: { cpuNs: number; at: number } | null;
}

export abstract class SupervisedDriver implements Driver {
  abstract readonly name: string;
  protected readonly pollIntervalMs: number;
  protected readonly killGraceMs: number;
  protected readonly procRoot: string;
  private readonly tasks = new Map<string, TrackedTask>();
  private readonly programs = new Map<string, Promise<string | null>>();

  constructor(opts: SupervisedDriverOptions = {}) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 250;
    this.killGraceMs = opts.killGraceMs ?? 10_000;
    this.procRoot = opts.procRoot ?? '/proc';
  }

  abstract fingerprint(): Promise<DriverFingerprint>;
  abstract capabilities(): DriverCapabilities;
  abstract validateConfig(config: Record<string, unknown>): string[];
  /** Build the program line and create the isolation for one task. */
  protected abstract plan(cfg: TaskConfig, program: string, args: string[], runId: string): Promise<LaunchPlan>;
  /** The program line that runs `command` next to the task (`alloc exec`). */
  protected abstract execLine(state: ProcessTaskState, isolation: TaskIsolation | null, command: string[], env: Record<string, string>): Promise<ExecLine>;

  /**
   * A line that makes its terminal itself, for drivers where the generic one (the whole
   * execLine run under `script` on the host) would not do; null to use the generic one.
   */
  protected ttyExecLine(_state: ProcessTaskState, _isolation: TaskIsolation | null, _command: string[], _env: Record<string, string>): Promise<ExecLine | null> {
    return Promise.resolve(null);
  }
  /** Rebuild the isolation from a handle's state (undefined for none). */
  protected abstract restoreIsolation(state: Record<string, unknown> | undefined): TaskIsolation | null;

  /** Absolute path of a helper program (setsid, unshare, mount), looked up once. */
  protected program(name: string): Promise<string | null> {
    let p = this.programs.get(name);
    if (p === undefined) {
      p = findProgram(name);
      this.programs.set(name, p);
    }
    return p;
  }

  protected async requireProgram(name: string): Promise<string> {
    const p = await this.program(name);
    if (p === null) throw new YurtError('unavailable', `${this.name}: required program "${name}" is not installed`);
    return p;
  }

  async start(cfg: TaskConfig): Promise<TaskHandle> {
    const errors = this.validateConfig(cfg.task.Config);
    if (errors.length > 0) {
      throw new ValidationError(
        `task "${cfg.task.Name}" config for driver ${this.name}`,
        errors.map((e) => {
          const i = e.indexOf(': ');
          return { path: e.slice(0, i), message: e.slice(i + 2) };
        }),
      );
    }
    const prev = this.tasks.get(cfg.id);
    if (prev !== undefined) {
      if (prev.result === null) throw new YurtError('conflict', `task ${cfg.id} is already running`);
      await this.destroy(cfg.id);
    }
    const dir = await stat(cfg.taskDir).catch(() => null);
    if (dir === null || !dir.isDirectory()) {
      throw new YurtError('invalid_argument', `task dir ${cfg.taskDir} does not exist`);
    }
    const { command, args } = commandConfig(cfg.task.Config);
    const program = await resolveCommand(command, cfg.taskDir, cfg.env['PATH']);
    const runId = randomBytes(6).toString('hex');
    const statusPath = join(cfg.taskDir, `.yurt-exit-${runId}`);
    const launchPlan = await this.plan(cfg, program, args, runId);
    let launched;
    try {
      launched = await launchSupervised({
        argv: launchPlan.argv,
        setsid: await this.requireProgram('setsid'),
        cwd: cfg.taskDir,
        env: launchPlan.env ?? cfg.env,
        stdoutPath: cfg.stdoutPath,
        stderrPath: cfg.stderrPath,
        statusPath,
        joinFiles: launchPlan.isolation?.joinFiles ?? [],
        reportsReady: launchPlan.reportsReady === true,
      });
    } catch (e) {
      await launchPlan.isolation?.release();
      throw e;
    }
    const [sup, task] = await Promise.all([
      readProcStat(launched.supervisorPid, this.procRoot),
      readProcStat(launched.pid, this.procRoot),
    ]);
    const state: ProcessTaskState = {
      version: 1,
      runId,
      supervisorPid: launched.supervisorPid,
      supervisorStart: sup?.starttime ?? 0,
      pid: launched.pid,
      pidStart: task?.starttime ?? 0,
      statusPath,
    };
    if (launchPlan.isolation !== null) state.isolation = launchPlan.isolation.toState();
    const startedAt = Date.now();
    const t = this.track(cfg.id, state, launchPlan.isolation, startedAt, launched.child);
    launched.child.once('exit', () => void this.finalize(t));
    // The exit may have happened before the listener was attached.
    if (launched.child.exitCode !== null || launched.child.signalCode !== null) void this.finalize(t);
    return { driver: this.name, taskId: cfg.id, startedAt, state: encodeTaskState(state) };
  }

  async wait(taskId: string): Promise<ExitResult> {
    return this.get(taskId).done;
  }

  async stop(taskId: string, signal: string, timeoutMs: number): Promise<void> {
    const t = this.get(taskId);
    if (t.result !== null) return;
    const sig = parseSignal(signal);
    if (sig.name !== 'SIGKILL' && (await this.leaderAlive(t))) {
      signalGroup(t.state.pid, sig.name);
      if (await this.exitedWithin(t, timeoutMs)) return;
    }
    await this.killAll(t);
    if (await this.exitedWithin(t, this.killGraceMs)) return;
    throw new YurtError('timeout', `${this.name}: task ${taskId} still running ${this.killGraceMs} ms after SIGKILL`);
  }

  async signal(taskId: string, signal: string): Promise<void> {
    const t = this.get(taskId);
    const sig = parseSignal(signal);
    if (t.result !== null || !(await this.leaderAlive(t))) {
      throw new YurtError('conflict', `task ${taskId} is not running`);
    }
    signalGroup(t.state.pid, sig.name);
  }

  async destroy(taskId: string): Promise<void> {
    const t = this.tasks.get(taskId);
    if (t === undefined) return;
    if (t.result === null) await this.stop(taskId, 'SIGKILL', 0);
    await t.isolation?.release();
    await unlink(t.state.statusPath).catch(() => undefined);
    if (t.poll !== null) clearTimeout(t.poll);
    this.tasks.delete(taskId);
  }

  /**
   * Reattach after an agent restart. True when the task is running (wait() resolves when it
   * ends) and also when it ended while the agent was away but its supervisor recorded the
   * status: wait() then resolves at once with that result, so a batch task that finished
   * during the restart reports its real exit code. False when the task is gone without a
   * record (host reboot, supervisor killed): anything left of it is killed, since it can no
   * longer be supervised and the client will start it again.
   */
  async recover(handle: TaskHandle): Promise<boolean> {
    if (handle.driver !== this.name) {
      throw new YurtError('invalid_argument', `handle of driver ${handle.driver} given to ${this.name}`);
    }
    if (this.tasks.has(handle.taskId)) return true;
    const state = decodeTaskState(handle.state);
    const isolation = this.restoreIsolation(state.isolation);
    const supervisorAlive =
      state.supervisorStart > 0 && (await isProcessAlive(state.supervisorPid, state.supervisorStart, this.procRoot));
    if (!supervisorAlive && (await readExitStatus(state.statusPath)) === null) {
      await this.killAllOf(state, isolation);
      await isolation?.release();
      return false;
    }
    const t = this.track(handle.taskId, state, isolation, handle.startedAt, null);
    if (supervisorAlive) this.schedulePoll(t);
    else await this.finalize(t);
    return true;
  }

  async exec(handle: TaskHandle, opts: ExecOptions): Promise<ExecResult> {
    const t = this.get(handle.taskId);
    if (t.result !== null || !(await this.leaderAlive(t))) throw new YurtError('conflict', `task ${handle.taskId} is not running`);
    if (opts.command.length === 0) throw new YurtError('invalid_argument', 'exec: command must not be empty');
    const line = opts.tty !== undefined ? await this.ttyExecLine(t.state, t.isolation, opts.command, opts.env ?? {}) : null;
    return runExecLine(line ?? (await this.execLine(t.state, t.isolation, opts.command, opts.env ?? {})), opts);
  }

  async inspect(taskId: string): Promise<TaskStatus | null> {
    const t = this.tasks.get(taskId);
    return t ? taskStatus(t, t.state) : null;
  }

  async stats(taskId: string): Promise<TaskStats | null> {
    const t = this.get(taskId);
    if (t.result !== null) return null;
    const usage = (await t.isolation?.usage()) ?? (await this.sessionUsage(t.state.pid));
    const now = Date.now();
    const prev = t.lastSample ?? { cpuNs: 0, at: t.startedAt };
    t.lastSample = { cpuNs: usage.cpuNs, at: now };
    const wallNs = Math.max(1, now - prev.at) * 1e6;
    // Percent of one core, as `top` shows it: a task busy on two cores reads 200.
    const cpuPercent = Math.max(0, ((usage.cpuNs - prev.cpuNs) / wallNs) * 100);
    return { timestamp: now, cpuPercent, memoryRssBytes: usage.rssBytes };
  }

  private get(taskId: string): TrackedTask {
    const t = this.tasks.get(taskId);
    if (t === undefined) throw new YurtError('not_found', `${this.name}: no task ${taskId}`);
    return t;
  }

  private track(
    taskId: string,
    state: ProcessTaskState,
    isolation: TaskIsolation | null,
    startedAt: number,
    child: ChildProcess | null,
  ): TrackedTask {
    let settle: (r: ExitResult) => void = () => undefined;
    const done = new Promise<ExitResult>((res) => (settle = res));
    const t: TrackedTask = {
      taskId, state, isolation, startedAt, child, result: null, finalizing: false,
      done, settle, poll: null, lastSample: null,
    };
    this.tasks.set(taskId, t);
    return t;
  }

  private schedulePoll(t: TrackedTask): void {
    t.poll = setTimeout(() => {
      t.poll = null;
      void (async () => {
        if (t.result !== null) return;
        if (await isProcessAlive(t.state.supervisorPid, t.state.supervisorStart, this.procRoot)) this.schedulePoll(t);
        else await this.finalize(t);
      })();
    }, this.pollIntervalMs);
  }

  /** The supervisor is gone: read what it recorded, clear up leftovers, settle wait(). */
  private async finalize(t: TrackedTask): Promise<void> {
    if (t.result !== null || t.finalizing) return;
    t.finalizing = true;
    let result: ExitResult;
    try {
      const rc = await readExitStatus(t.state.statusPath);
      // The task is its first process: when that ends, whatever it left running in its
      // session or cgroup ends too (Nomad kills a task's remaining processes the same way).
      await this.killAllOf(t.state, t.isolation);
      const oom = (await t.isolation?.oomKilled()) ?? false;
      if (rc !== null) {
        result = exitResultFromStatus(rc, oom);
      } else {
        const how = t.child?.signalCode != null ? ` (killed by ${t.child.signalCode})` : '';
        result = {
          exitCode: -1,
          signal: 0,
          oomKilled: oom,
          err: `supervisor ${t.state.supervisorPid} ended${how} without recording the task's exit status`,
        };
      }
    } catch (e) {
      result = { exitCode: -1, signal: 0, oomKilled: false, err: `cannot collect the task's exit: ${(e as Error).message}` };
    }
    t.result = result;
    if (t.poll !== null) clearTimeout(t.poll);
    t.poll = null;
    t.child = null;
    t.settle(result);
  }

  private async leaderAlive(t: TrackedTask): Promise<boolean> {
    return t.state.pidStart > 0 && isProcessAlive(t.state.pid, t.state.pidStart, this.procRoot);
  }

  private async killAll(t: TrackedTask): Promise<void> {
    await this.killAllOf(t.state, t.isolation);
  }

  private async killAllOf(state: ProcessTaskState, isolation: TaskIsolation | null): Promise<void> {
    await isolation?.killAll();
    await killSession(state.pid, this.procRoot);
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

  private async sessionUsage(sid: number): Promise<ResourceUsage> {
    const members = await sessionMembers(sid, this.procRoot);
    const rss = await Promise.all(members.map((p) => readRssBytes(p.pid, this.procRoot)));
    const ticks = members.reduce((sum, p) => sum + p.utime + p.stime, 0);
    return { cpuNs: (ticks / CLOCK_TICKS_PER_SECOND) * 1e9, rssBytes: rss.reduce((a, b) => a + b, 0) };
  }
}

