/**
 * The docker driver: each task is one container on the local Docker engine, created from
 * the task's `config` (docker-config.ts → container-options.ts), labelled so a restarted
 * agent can find it again (labels.ts), its output copied into the task's log files
 * (log-follower.ts) and its end read from the engine (`wait`, then `inspect` for the exit
 * code and OOM kill).
 *
 * Containers outlive the agent: after a restart, `recover(handle)` on a new instance
 * reattaches by container ID, and `removeOrphans` clears labelled containers that no task
 * of this client owns any more.
 */
import { taskStatus } from '../task-status.js';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { Driver, DriverCapabilities, DriverFingerprint, ExecOptions, ExecResult, ExitResult, TaskConfig, TaskHandle, TaskStats, TaskStatus } from '../driver.js';
import { execInContainer } from './container-exec.js';
import { ValidationError, YurtError } from '../../structs/errors.js';
import { parseSignal, type ParsedSignal } from '../process/signals.js';
import { buildContainerOptions, sharedAllocDir, type HostCpu } from './container-options.js';
import { taskStats, type CpuSample } from './container-stats.js';
import { parseDockerConfig, validateDockerConfig } from './docker-config.js';
import { engineError, engineStatus, isNotFound } from './docker-errors.js';
import { fingerprintEngine } from './docker-fingerprint.js';
import { exitResult } from './exit-status.js';
import { detectHostCpu } from './host-cpu.js';
import { ImageStore } from './image-store.js';
import { DRIVER_NAME, LABEL_DRIVER, LABEL_OWNER, LABEL_TASK_ID } from './labels.js';
import { LogFollower } from './log-follower.js';

export interface DockerDriverOptions {
  /** The engine's unix socket. Default: DOCKER_HOST when it is a unix:// address, else /var/run/docker.sock. */
  socketPath?: string;
  /**
   * This client's identity (the node ID), put on every container as `com.yurt.owner`.
   * removeOrphans only touches containers with the same owner, so clients sharing one
   * engine never remove each other's tasks. Empty: no owner label, and removeOrphans
   * considers every yurt container on the engine.
   */
  ownerId?: string;
  /** Nomad's `allow_privileged`: tasks may set `privileged = true`. Default false. */
  allowPrivileged?: boolean;
  /** Nomad's `volumes { enabled }`: host paths outside the allocation and named volumes. Default false. */
  volumesEnabled?: boolean;
  /** The host's CPU as the client fingerprinted it (for cpu_hard_limit); detected when omitted. */
  hostCpu?: HostCpu;
  /** How long fingerprint() waits for the engine. Default 2 s. */
  fingerprintTimeoutMs?: number;
  /** How long stop() waits for a container to end after SIGKILL before failing. Default 10 s. */
  killGraceMs?: number;
}

/** What a TaskHandle's `state` holds for a docker task. */
export interface DockerTaskState {
  version: 1;
  containerId: string;
  containerName: string;
  imageId: string;
  /** The task's log files, to continue copying output into after a recover. */
  stdoutPath: string;
  stderrPath: string;
}

export interface RemovedOrphan {
  containerId: string;
  containerName: string;
  /** The yurt task the container was started for (its com.yurt.task_id label). */
  taskId: string;
}

interface TrackedTask {
  taskId: string;
  container: Dockerode.Container;
  state: DockerTaskState;
  startedAt: number;
  result: ExitResult | null;
  done: Promise<ExitResult>;
  settle: (r: ExitResult) => void;
  logs: LogFollower | null;
  /** Aborts the pending engine `wait` when the driver lets go of the task. */
  abort: AbortController;
  signalsSent: Set<number>;
  lastSample: CpuSample | null;
}

/** After a container ends, how long its log copy may take to drain before wait() resolves anyway. */
const LOG_DRAIN_MS = 2000;
/** How long to wait before re-reading an unexplained SIGKILL exit (a late OOM flag). */
const OOM_RECHECK_MS = 250;
/** Retry pace while the engine cannot be reached during a wait (engine restart). */
const ENGINE_RETRY_MS = 1000;
/** Give up waiting on a container when the engine stays unreachable this long. */
const ENGINE_LOST_MS = 60_000;

function defaultSocketPath(): string {
  const host = process.env['DOCKER_HOST'];
  return host?.startsWith('unix://') === true ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wait for `p`, at most `ms`; the timer does not outlive it. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export class DockerDriver implements Driver {
  readonly name = DRIVER_NAME;
  readonly socketPath: string;
  private readonly docker: Dockerode;
  private readonly images: ImageStore;
  private readonly ownerId: string;
  private readonly allowPrivileged: boolean;
  private readonly volumesEnabled: boolean;
  private readonly fingerprintTimeoutMs: number;
  private readonly killGraceMs: number;
  private hostCpu: Promise<HostCpu> | null;
  private readonly tasks = new Map<string, TrackedTask>();
  /** Tasks between container create and tracking: removeOrphans must not take their containers. */
  private readonly starting = new Set<string>();

  constructor(opts: DockerDriverOptions = {}) {
    this.socketPath = opts.socketPath ?? defaultSocketPath();
    this.docker = new Dockerode({ socketPath: this.socketPath });
    this.images = new ImageStore(this.docker);
    this.ownerId = opts.ownerId ?? '';
    this.allowPrivileged = opts.allowPrivileged ?? false;
    this.volumesEnabled = opts.volumesEnabled ?? false;
    this.fingerprintTimeoutMs = opts.fingerprintTimeoutMs ?? 2000;
    this.killGraceMs = opts.killGraceMs ?? 10_000;
    this.hostCpu = opts.hostCpu !== undefined ? Promise.resolve(opts.hostCpu) : null;
  }

  fingerprint(): Promise<DriverFingerprint> {
    return fingerprintEngine(this.docker, {
      socketPath: this.socketPath,
      timeoutMs: this.fingerprintTimeoutMs,
      allowPrivileged: this.allowPrivileged,
      volumesEnabled: this.volumesEnabled,
    });
  }

  capabilities(): DriverCapabilities {
    return { sendSignals: true, exec: true, fsIsolation: 'image', hostEnv: false };
  }

  validateConfig(config: Record<string, unknown>): string[] {
    const errors = validateDockerConfig(config);
    if (config['privileged'] === true && !this.allowPrivileged) {
      errors.push('config.privileged: privileged containers are not allowed on this client (docker plugin option allow_privileged)');
    }
    return errors;
  }

  async start(cfg: TaskConfig): Promise<TaskHandle> {
    const errors = this.validateConfig(cfg.task.Config);
    if (errors.length > 0) {
      throw new ValidationError(
        `task "${cfg.task.Name}" config for driver docker`,
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
    if (this.starting.has(cfg.id)) throw new YurtError('conflict', `task ${cfg.id} is already starting`);
    this.starting.add(cfg.id);
    try {
      return await this.startContainer(cfg);
    } finally {
      this.starting.delete(cfg.id);
    }
  }

  private async startContainer(cfg: TaskConfig): Promise<TaskHandle> {
    const dir = await stat(cfg.taskDir).catch(() => null);
    if (dir === null || !dir.isDirectory()) {
      throw new YurtError('invalid_argument', `task dir ${cfg.taskDir} does not exist`);
    }
    // The client builds these; making sure costs nothing and a missing bind source would
    // otherwise fail the create with an engine error about mounts.
    await Promise.all(
      [sharedAllocDir(cfg), join(cfg.taskDir, 'local'), join(cfg.taskDir, 'secrets')].map((d) => mkdir(d, { recursive: true })),
    );
    const dc = parseDockerConfig(cfg.task.Config);
    const options = buildContainerOptions(cfg, dc, {
      ownerId: this.ownerId,
      volumesEnabled: this.volumesEnabled,
      hostCpu: await this.host(),
    });
    const image = await this.images.ensure({
      image: dc.image,
      forcePull: dc.forcePull,
      pullTimeoutMs: dc.imagePullTimeoutMs,
      load: dc.load,
      taskDir: cfg.taskDir,
    });
    const container = await this.createContainer(cfg, options);
    try {
      await container.start();
    } catch (e) {
      await container.remove({ force: true }).catch(() => undefined);
      throw engineError(`starting container for task "${cfg.task.Name}" (image ${dc.image})`, e, 'invalid_argument');
    }
    const startedAt = Date.now();
    const state: DockerTaskState = {
      version: 1,
      containerId: container.id,
      containerName: options.name ?? '',
      imageId: image.imageId,
      stdoutPath: cfg.stdoutPath,
      stderrPath: cfg.stderrPath,
    };
    let logs: LogFollower;
    try {
      logs = await LogFollower.start(container, cfg.stdoutPath, cfg.stderrPath, null);
    } catch (e) {
      // A task whose output goes nowhere is not started: nobody could see why it fails.
      await container.remove({ force: true }).catch(() => undefined);
      throw engineError(`following the output of task "${cfg.task.Name}"`, e);
    }
    const t = this.track(cfg.id, container, state, startedAt);
    t.logs = logs;
    void this.watch(t);
    return { driver: this.name, taskId: cfg.id, startedAt, state: { ...state } };
  }

  /**
   * Create, replacing a leftover container of the same task (same name and task label): a
   * task restarted after its container was not destroyed, or an agent that died between
   * create and start. A same-named container of anything else is a conflict.
   */
  private async createContainer(cfg: TaskConfig, options: Dockerode.ContainerCreateOptions): Promise<Dockerode.Container> {
    try {
      return await this.docker.createContainer(options);
    } catch (e) {
      if (engineStatus(e) !== 409 || options.name === undefined) {
        throw engineError(`creating container for task "${cfg.task.Name}"`, e, 'invalid_argument');
      }
      const existing = await this.docker
        .getContainer(options.name)
        .inspect()
        .catch(() => null);
      if (existing?.Config.Labels[LABEL_TASK_ID] !== cfg.id) {
        throw engineError(`creating container "${options.name}"`, e, 'conflict');
      }
      await this.docker.getContainer(existing.Id).remove({ force: true });
      try {
        return await this.docker.createContainer(options);
      } catch (e2) {
        throw engineError(`creating container for task "${cfg.task.Name}"`, e2, 'invalid_argument');
      }
    }
  }

  async wait(taskId: string): Promise<ExitResult> {
    return this.get(taskId).done;
  }

  /** Docker's stop, with the caller's signal: send it, wait up to `timeoutMs`, then SIGKILL. */
  async stop(taskId: string, signal: string, timeoutMs: number): Promise<void> {
    const t = this.get(taskId);
    if (t.result !== null) return;
    const sig = parseSignal(signal);
    if (sig.name !== 'SIGKILL') {
      if (!(await this.kill(t, sig))) {
        await this.exitedWithin(t, this.killGraceMs);
        return;
      }
      if (await this.exitedWithin(t, timeoutMs)) return;
    }
    await this.kill(t, parseSignal('SIGKILL'));
    if (await this.exitedWithin(t, this.killGraceMs)) return;
    throw new YurtError('timeout', `docker: task ${taskId} still running ${this.killGraceMs} ms after SIGKILL`);
  }

  async signal(taskId: string, signal: string): Promise<void> {
    const t = this.get(taskId);
    const sig = parseSignal(signal);
    if (t.result !== null || !(await this.kill(t, sig))) throw new YurtError('conflict', `task ${taskId} is not running`);
  }

  /** Removes the task's container (killing it first when running). Idempotent. */
  async destroy(taskId: string): Promise<void> {
    const t = this.tasks.get(taskId);
    if (t === undefined) {
      // Not known to this instance (never recovered): remove what the engine has for it.
      for (const c of await this.listYurtContainers()) {
        if (c.Labels[LABEL_TASK_ID] === taskId) await this.removeContainer(c.Id);
      }
      return;
    }
    if (t.result === null) await this.stop(taskId, 'SIGKILL', 0).catch(() => undefined);
    t.abort.abort();
    await t.logs?.stop();
    await this.removeContainer(t.state.containerId);
    this.tasks.delete(taskId);
  }

  /**
   * Reattach after an agent restart. True when the container is running (wait() resolves
   * when it ends; its output is copied from now on) and also when it ended while the agent
   * was away (wait() resolves at once with the engine's recorded exit). False when the
   * container is gone, or was created but never started (then it is removed).
   */
  async recover(handle: TaskHandle): Promise<boolean> {
    if (handle.driver !== this.name) {
      throw new YurtError('invalid_argument', `handle of driver ${handle.driver} given to ${this.name}`);
    }
    if (this.tasks.has(handle.taskId)) return true;
    const state = decodeState(handle.state);
    const container = this.docker.getContainer(state.containerId);
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await container.inspect();
    } catch (e) {
      if (isNotFound(e)) return false;
      throw engineError(`inspecting container ${state.containerId}`, e);
    }
    const owner = info.Config.Labels[LABEL_TASK_ID];
    if (owner !== handle.taskId) {
      throw new YurtError('invalid_argument', `container ${state.containerId} belongs to task ${owner ?? '(none)'}, not ${handle.taskId}`);
    }
    if (info.State.Status === 'created') {
      await this.removeContainer(state.containerId);
      return false;
    }
    const t = this.track(handle.taskId, container, state, handle.startedAt);
    if (info.State.Running || info.State.Restarting || info.State.Paused) {
      // The task runs either way; only its output would be missing, so recovery goes on.
      t.logs = await LogFollower.start(container, state.stdoutPath, state.stderrPath, Date.now() / 1000).catch(() => null);
      void this.watch(t);
    } else {
      this.settle(t, exitResult(info.State, t.signalsSent));
    }
    return true;
  }

  async exec(handle: TaskHandle, opts: ExecOptions): Promise<ExecResult> {
    const t = this.get(handle.taskId);
    if (t.result !== null) throw new YurtError('conflict', `task ${handle.taskId} is not running`);
    return execInContainer(this.docker, t.container, opts);
  }

  async inspect(taskId: string): Promise<TaskStatus | null> {
    const t = this.tasks.get(taskId);
    return t ? taskStatus(t, t.state) : null;
  }

  async stats(taskId: string): Promise<TaskStats | null> {
    const t = this.get(taskId);
    if (t.result !== null) return null;
    let raw: Dockerode.ContainerStats;
    try {
      raw = await t.container.stats({ stream: false, 'one-shot': true });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw engineError(`reading stats of task ${taskId}`, e);
    }
    const now = Date.now();
    const { stats, sample } = taskStats(raw, t.lastSample ?? { cpuNs: 0, at: t.startedAt }, now);
    t.lastSample = sample;
    return stats;
  }

  /**
   * Remove every container of this client (owner label) whose task is not in
   * `knownTaskIds` and not tracked here: what a crash between start and the client saving
   * the handle, or a lost client state, leaves behind. Returns what was removed.
   */
  async removeOrphans(knownTaskIds: Iterable<string>): Promise<RemovedOrphan[]> {
    const known = new Set(knownTaskIds);
    const removed: RemovedOrphan[] = [];
    for (const c of await this.listYurtContainers()) {
      const taskId = c.Labels[LABEL_TASK_ID] ?? '';
      if (known.has(taskId) || this.tasks.has(taskId) || this.starting.has(taskId)) continue;
      await this.removeContainer(c.Id);
      removed.push({ containerId: c.Id, containerName: (c.Names[0] ?? '').replace(/^\//, ''), taskId });
    }
    return removed;
  }

  /**
   * Let go of every task without stopping it (the agent is shutting down; the containers
   * keep running and a new agent recovers them). Stops the log copies and the pending
   * engine requests, which would otherwise keep the process alive.
   */
  async close(): Promise<void> {
    for (const t of this.tasks.values()) t.abort.abort();
    await Promise.all([...this.tasks.values()].map((t) => t.logs?.stop() ?? Promise.resolve()));
    this.tasks.clear();
  }

  private get(taskId: string): TrackedTask {
    const t = this.tasks.get(taskId);
    if (t === undefined) throw new YurtError('not_found', `docker: no task ${taskId}`);
    return t;
  }

  private host(): Promise<HostCpu> {
    this.hostCpu ??= detectHostCpu();
    return this.hostCpu;
  }

  private track(taskId: string, container: Dockerode.Container, state: DockerTaskState, startedAt: number): TrackedTask {
    let settle: (r: ExitResult) => void = () => undefined;
    const done = new Promise<ExitResult>((res) => (settle = res));
    const t: TrackedTask = {
      taskId, container, state, startedAt, result: null, done, settle, logs: null,
      abort: new AbortController(), signalsSent: new Set(), lastSample: null,
    };
    this.tasks.set(taskId, t);
    return t;
  }

  private settle(t: TrackedTask, r: ExitResult): void {
    if (t.result !== null) return;
    t.result = r;
    t.settle(r);
  }

  /**
   * Wait for the container to stop, then read how it ended. The engine's wait is a long
   * poll; if the connection breaks (engine restart) the container is waited on again, and
   * after ENGINE_LOST_MS without an engine the task is reported lost.
   */
  private async watch(t: TrackedTask): Promise<void> {
    let lostSince: number | null = null;
    for (;;) {
      try {
        await t.container.wait({ condition: 'not-running', abortSignal: t.abort.signal });
        break;
      } catch (e) {
        if (t.abort.signal.aborted) return;
        if (isNotFound(e)) {
          this.settle(t, { exitCode: -1, signal: 0, oomKilled: false, err: `container ${t.state.containerId} was removed outside yurt` });
          return;
        }
        lostSince ??= Date.now();
        if (Date.now() - lostSince > ENGINE_LOST_MS) {
          this.settle(t, { exitCode: -1, signal: 0, oomKilled: false, err: `lost the Docker engine while waiting: ${(e as Error).message}` });
          return;
        }
        await sleep(ENGINE_RETRY_MS);
      }
    }
    let result: ExitResult;
    try {
      let info = await t.container.inspect({ abortSignal: t.abort.signal });
      // Docker (cgroup v1) can record an OOM kill a moment after the container is seen to
      // exit; a SIGKILL exit nobody sent is looked at again before it is reported.
      if (info.State.ExitCode === 137 && !info.State.OOMKilled && !t.signalsSent.has(9)) {
        await sleep(OOM_RECHECK_MS);
        info = await t.container.inspect({ abortSignal: t.abort.signal });
      }
      result = exitResult(info.State, t.signalsSent);
    } catch (e) {
      if (t.abort.signal.aborted) return;
      result = { exitCode: -1, signal: 0, oomKilled: false, err: `cannot read the container's exit: ${(e as Error).message}` };
    }
    // Let the log copy catch up, so the files hold all output once wait() resolves.
    if (t.logs !== null) await settledWithin(t.logs.done, LOG_DRAIN_MS);
    this.settle(t, result);
  }

  /** Deliver a signal; false when the container is no longer running. */
  private async kill(t: TrackedTask, sig: ParsedSignal): Promise<boolean> {
    t.signalsSent.add(sig.number);
    try {
      await t.container.kill({ signal: sig.name });
      return true;
    } catch (e) {
      // 409: "Container ... is not running"; 404: already removed.
      if (engineStatus(e) === 409 || isNotFound(e)) return false;
      throw engineError(`sending ${sig.name} to task ${t.taskId}`, e);
    }
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

  private async removeContainer(id: string): Promise<void> {
    try {
      // v: also the container's anonymous volumes, which nothing else would ever remove.
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (e) {
      // 404: already gone; 409: removal already in progress.
      if (isNotFound(e) || engineStatus(e) === 409) return;
      throw engineError(`removing container ${id}`, e);
    }
  }

  private async listYurtContainers(): Promise<Dockerode.ContainerInfo[]> {
    const label = [`${LABEL_DRIVER}=${DRIVER_NAME}`];
    if (this.ownerId !== '') label.push(`${LABEL_OWNER}=${this.ownerId}`);
    try {
      return await this.docker.listContainers({ all: true, filters: { label } });
    } catch (e) {
      throw engineError('listing containers', e);
    }
  }
}

function decodeState(raw: Record<string, unknown>): DockerTaskState {
  const bad = (field: string) => new YurtError('invalid_argument', `docker task handle: ${field} is missing or not a string`);
  if (raw['version'] !== 1) throw new YurtError('invalid_argument', `docker task handle: unsupported version ${JSON.stringify(raw['version'])}`);
  const str = (f: keyof DockerTaskState): string => {
    const v = raw[f];
    if (typeof v !== 'string' || (f === 'containerId' && v === '')) throw bad(f);
    return v;
  };
  return {
    version: 1,
    containerId: str('containerId'),
    containerName: str('containerName'),
    imageId: str('imageId'),
    stdoutPath: str('stdoutPath'),
    stderrPath: str('stderrPath'),
  };
}
