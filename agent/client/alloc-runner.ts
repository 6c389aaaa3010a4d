/**
 * Runs one allocation on this client: builds its directories, runs a TaskRunner per task,
 * derives the allocation's client status from its tasks (Nomad's rules: any failed task fails
 * the allocation, all dead and none failed completes it), stops the rest when one fails, and
 * stops everything when the server sets the desired status to stop.
 */
import type { Logger } from 'pino';
import type { AllocClientStatus, Allocation, AllocClientUpdate, TaskState } from '../../structs/alloc.js';
import type { Driver, TaskHandle } from '../../drivers/driver.js';
import { AllocDir } from './alloc-dir.js';
import type { LocalAllocState } from './client-state.js';
import { TaskRunner, taskEvent } from './task-runner.js';
import { LogRotator } from './log-rotator.js';
import { buildTaskEnv, interpolateTask, type TaskEnvNode } from './task-env.js';
import { TaskEventType } from '../../structs/alloc.js';
import { YurtError } from '../../structs/errors.js';
import { allocResourceUsage, type AllocResourceUsage } from './alloc-stats.js';
import { AllocHealthTracker, type HealthClock } from './alloc-health.js';

export interface AllocRunnerDeps {
  allocsRoot: string;
  drivers: Map<string, Driver>;
  logger: Logger;
  /** The node as fingerprinted now: what `${attr.*}`, `${meta.*}` and `${node.*}` resolve against. */
  node: () => TaskEnvNode;
  onUpdate: (u: AllocClientUpdate) => void;
  /** How often task logs are checked against their size limit (default 1 s). */
  logRotateIntervalMs?: number;
  /**
   * Saves the runner's state; with `durable`, resolves only once it is on disk (task handles
   * must be, before a task counts as started).
   */
  persist: (s: LocalAllocState, durable: boolean) => Promise<void>;
  /** Clock for deployment health timers (tests); default the real one. */
  healthClock?: HealthClock;
  /** The agent's environment less `env.denylist`, for drivers that pass it on (host-env.ts); default none. */
  hostEnv?: Record<string, string>;
  /** The client's `max_kill_timeout`: caps every task's kill_timeout (default none). */
  maxKillTimeoutMs?: number;
}

export class AllocRunner {
  readonly dir: AllocDir;
  private alloc: Allocation;
  private runners: TaskRunner[] = [];
  private status: AllocClientStatus = 'pending';
  private description = '';
  private stopping = false;
  private done: Promise<void> = Promise.resolve();
  private handles: Record<string, TaskHandle> = {};
  private persistChain: Promise<void> = Promise.resolve();
  /** The next write, not yet begun: later requests join it. */
  private queuedWrite: Promise<void> | null = null;
  private nextWriteDurable = false;
  private detached = false;
  private readonly health: AllocHealthTracker | null;

  /** @param restore state saved before an agent restart, to reattach to running tasks. */
  constructor(
    alloc: Allocation,
    private readonly deps: AllocRunnerDeps,
    private readonly restore?: LocalAllocState,
  ) {
    this.alloc = alloc;
    this.dir = new AllocDir(deps.allocsRoot, alloc.ID);
    if (restore) this.handles = { ...restore.handles };
    this.health = AllocHealthTracker.forAlloc(
      alloc,
      (verdict) => {
        this.alloc = { ...this.alloc, DeploymentStatus: verdict };
        this.report();
        void this.persist();
      },
      deps.healthClock,
    );
  }

  /** The client's deployment health verdict, once reached. */
  /** The allocation as the servers last sent it. */
  allocation(): Allocation {
    return this.alloc;
  }

  deploymentStatus(): Allocation['DeploymentStatus'] {
    return this.alloc.DeploymentStatus ?? null;
  }

  get id(): string {
    return this.alloc.ID;
  }

  jobType(): string {
    return this.alloc.Job.Type;
  }

  /** Told to stop (by the server, a failure or the agent) and every task is dead. */
  isStopped(): boolean {
    return this.stopping && this.runners.every((r) => r.isDead());
  }

  clientStatus(): AllocClientStatus {
    return this.status;
  }

  /** Finished for good (complete or failed) and nothing of it still runs: it may be collected. */
  isTerminal(): boolean {
    return (this.status === 'complete' || this.status === 'failed') && this.runners.every((r) => r.isDead());
  }

  /** When the last task finished (ms since the epoch), for collecting the oldest first. */
  finishedAt(): number {
    let last = 0;
    for (const r of this.runners) {
      const t = r.state.FinishedAt !== null ? Date.parse(r.state.FinishedAt) : 0;
      if (t > last) last = t;
    }
    return last;
  }

  /** Stops whatever still runs and removes the allocation's directory. */
  async destroy(): Promise<void> {
    await this.stop('allocation garbage collected');
    // A state write still in flight would bring the allocation back after its removal.
    await this.persistChain;
    await this.dir.destroy();
  }

  run(): void {
    this.done = this.runAll();
  }

  wait(): Promise<void> {
    return this.done;
  }

  private async runAll(): Promise<void> {
    const tg = this.alloc.Job.TaskGroups.find((g) => g.Name === this.alloc.TaskGroup);
    if (!tg) {
      this.status = 'failed';
      this.description = `task group ${this.alloc.TaskGroup} not found in job`;
      this.report();
      return;
    }
    try {
      await this.dir.build(tg.Tasks.map((t) => t.Name));
    } catch (err) {
      this.status = 'failed';
      this.description = `failed to build alloc dir: ${err instanceof Error ? err.message : String(err)}`;
      this.report();
      return;
    }
    const node = this.deps.node();
    this.runners = tg.Tasks.map((rawTask) => {
      const inherits = this.deps.drivers.get(rawTask.Driver)?.capabilities().hostEnv === true;
      const env = buildTaskEnv(
        this.alloc,
        rawTask,
        { allocDir: this.dir.sharedDir, taskDir: `${this.dir.taskDir(rawTask.Name)}/local`, secretsDir: `${this.dir.taskDir(rawTask.Name)}/secrets` },
        node,
        inherits ? this.deps.hostEnv : undefined,
      );
      const task = interpolateTask(rawTask, env, node);
      return new TaskRunner({
        alloc: this.alloc,
        task,
        driver: this.deps.drivers.get(task.Driver),
        allocDir: this.dir,
        env,
        logger: this.deps.logger.child({ alloc_id: this.alloc.ID, task: task.Name }),
        ...(this.deps.maxKillTimeoutMs !== undefined ? { maxKillTimeoutMs: this.deps.maxKillTimeoutMs } : {}),
        onChange: () => this.onTaskChange(),
        onHandle: (h) => {
          if (h) this.handles[task.Name] = h;
          else delete this.handles[task.Name];
          return this.persist(true);
        },
        ...(this.restore?.taskStates[task.Name]
          ? { restore: { state: this.restore.taskStates[task.Name]!, handle: this.restore.handles[task.Name] ?? null } }
          : {}),
      });
    });
    const rotator = new LogRotator(
      tg.Tasks.flatMap((t) =>
        (['stdout', 'stderr'] as const).map((stream) => ({ logsDir: this.dir.logsDir, base: this.dir.logBase(t.Name, stream), config: t.LogConfig })),
      ),
      (err, log) => this.deps.logger.warn({ err, alloc_id: this.alloc.ID, log: log.base }, 'log rotation failed'),
      this.deps.logRotateIntervalMs,
    );
    rotator.start();
    try {
      await this.runLifecycle();
    } finally {
      await rotator.stop();
    }
    this.onTaskChange();
  }

  /**
   * Nomad's task lifecycle: prestart tasks run (and must succeed) before the main tasks, prestart
   * sidecars keep running beside them; poststart tasks start once the main tasks run; when the
   * main tasks are done, sidecars are stopped; poststop tasks run last.
   */
  private async runLifecycle(): Promise<void> {
    const stage = (hook: TaskRunner['hook']): TaskRunner[] => this.runners.filter((r) => r.hook === hook);
    const main = stage('main');
    const prestart = stage('prestart');
    const poststart = stage('poststart');
    const poststop = stage('poststop');
    const sidecars = [...prestart, ...poststart].filter((r) => r.sidecar);
    const running: Array<Promise<void>> = prestart.filter((r) => r.sidecar).map((r) => r.run());
    await Promise.all(prestart.filter((r) => !r.sidecar).map((r) => r.run()));
    const prestartFailed = prestart.some((r) => !r.sidecar && r.state.Failed);
    // A restored allocation whose stop came in meanwhile still runs its main tasks' runners: they
    // reattach to what survived and stop it (marking them not run would leave it running).
    if (prestartFailed || (this.stopping && !this.restore)) {
      for (const r of [...main, ...poststart]) r.markNotRun(prestartFailed ? 'a prestart task failed' : 'allocation stopped');
    } else {
      const mainRuns = main.map((r) => r.run());
      await this.waitFor(() => main.every((r) => r.state.State !== 'pending'));
      if (this.stopping) poststart.forEach((r) => r.markNotRun('allocation stopped'));
      else running.push(...poststart.map((r) => r.run()));
      await Promise.all(mainRuns);
    }
    for (const r of sidecars) {
      if (!r.isDead()) {
        r.state.Events.push(taskEvent(TaskEventType.MainTasksDone, { DisplayMessage: 'Main tasks in the group have completed' }));
        void r.kill('Main tasks in the group have completed');
      }
    }
    await Promise.all(running);
    await Promise.all(poststop.map((r) => r.run()));
  }

  private readonly waiters = new Set<() => void>();

  /** Resolve once `pred` holds, re-checked on every task change. */
  private waitFor(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!pred()) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  /** The allocation's task runners, in the group's task order (`alloc exec` picks one). */
  taskRunners(): readonly TaskRunner[] {
    return this.runners;
  }

  /** The task runners addressed by an operator request: the named one, or every running one. */
  private targets(task: string | undefined): TaskRunner[] {
    if (task !== undefined && task !== '') {
      const r = this.runners.find((x) => x.name === task);
      if (!r) throw new YurtError('not_found', `task "${task}" not found in allocation ${this.alloc.ID}`);
      return [r];
    }
    const running = this.runners.filter((r) => r.isRunning());
    if (running.length === 0) throw new YurtError('conflict', `allocation ${this.alloc.ID} has no running tasks`);
    return running;
  }

  /** `alloc restart`: restart one task, or every running task, in place. */
  async restartTasks(task?: string): Promise<void> {
    if (this.stopping) throw new YurtError('conflict', `allocation ${this.alloc.ID} is stopping`);
    await Promise.all(this.targets(task).map((r) => r.restart()));
  }

  /** `alloc signal`: send a signal to one task, or to every running task. */
  async signalTasks(signal: string, task?: string): Promise<void> {
    await Promise.all(this.targets(task).map((r) => r.signal(signal)));
  }

  /** Current usage of the running tasks; `mhzPerCore` converts CPU percent to Nomad's ticks. */
  async stats(mhzPerCore: number): Promise<AllocResourceUsage> {
    const samples = await Promise.all(this.runners.map(async (r) => [r.name, await r.stats()] as const));
    return allocResourceUsage(Object.fromEntries(samples), mhzPerCore);
  }

  /** The server changed the allocation; a stop request stops every task. */
  update(alloc: Allocation): void {
    // The health verdict is the client's own: a server copy without it must not erase it.
    const verdict = this.alloc.DeploymentStatus ?? alloc.DeploymentStatus;
    this.alloc = { ...alloc, TaskStates: this.alloc.TaskStates, ...(verdict ? { DeploymentStatus: verdict } : {}) };
    if (alloc.DesiredStatus !== 'run') void this.stop(alloc.DesiredDescription || 'alloc stopped by server');
  }

  async stop(reason: string): Promise<void> {
    if (this.stopping) return this.done;
    this.stopping = true;
    this.health?.close();
    // poststop tasks are not killed: they run once the others have stopped, also on a stop.
    await Promise.all(this.runners.filter((r) => r.hook !== 'poststop').map((r) => r.kill(reason)));
    await this.done;
  }

  private onTaskChange(): void {
    for (const w of [...this.waiters]) w();
    if (!this.stopping) this.health?.observe(Object.fromEntries(this.runners.map((r) => [r.name, r.state])));
    const next = this.deriveStatus();
    const deadLeader = this.runners.find((r) => r.leader && r.isDead());
    if (deadLeader && !this.stopping) {
      // The leader is done: the group is done (Nomad stops the other tasks gracefully).
      this.stopping = true;
      for (const r of this.runners) {
        if (r === deadLeader || r.isDead()) continue;
        if (r.hook === 'poststop') continue;
        r.state.Events.push(taskEvent(TaskEventType.LeaderDead, { DisplayMessage: `Leader Task "${deadLeader.name}" is dead` }));
        if (r.state.State === 'pending') r.markNotRun('leader task is dead');
        else void r.kill(`Leader Task "${deadLeader.name}" is dead`);
      }
    }
    const failedTask = this.runners.find((r) => r.isDead() && r.state.Failed);
    if (failedTask && !this.stopping) {
      // One task failing fails the group: stop its siblings (Nomad: "Sibling Task Failed").
      this.stopping = true;
      for (const r of this.runners) {
        if (!r.isDead() && r.hook !== 'poststop') {
          r.state.Events.push(taskEvent(TaskEventType.TaskSiblingFailed, { DisplayMessage: `Task's sibling "${failedTask.name}" failed` }));
          void r.kill(`Task's sibling "${failedTask.name}" failed`);
        }
      }
    }
    this.status = next.status;
    this.description = next.description;
    this.report();
    void this.persist();
  }

  /**
   * The agent is shutting down and closes its state: stop saving (tasks may run on; a restarted
   * agent reattaches from what was saved, as after a crash) and wait for writes in flight.
   */
  async detach(): Promise<void> {
    this.detached = true;
    this.health?.close();
    await this.persistChain;
  }

  /**
   * Writes land in order, one at a time; a failed write is logged, not fatal. Requests made
   * while a write is in flight share the next write, which takes the state as it is then, so a
   * burst of task events costs one write. `durable` (a task handle changed) makes that write
   * wait for the disk: a started task must be on disk before it counts as running. The other
   * writes survive an agent crash anyway (committed to the OS); only a host crash loses them.
   */
  private persist(durable = false): Promise<void> {
    if (this.detached) return this.persistChain;
    this.nextWriteDurable ||= durable;
    if (this.queuedWrite) return this.queuedWrite;
    const write = this.persistChain
      .then(() => {
        this.queuedWrite = null;
        const d = this.nextWriteDurable;
        this.nextWriteDurable = false;
        return this.deps.persist({ alloc: this.alloc, taskStates: this.taskStates(), handles: { ...this.handles } }, d);
      })
      .catch((err: unknown) => this.deps.logger.error({ err, alloc_id: this.alloc.ID }, 'could not save allocation state'));
    this.queuedWrite = write;
    this.persistChain = write;
    return write;
  }

  private deriveStatus(): { status: AllocClientStatus; description: string } {
    if (this.runners.length === 0) return { status: this.status, description: this.description };
    const states = this.runners.map((r) => r.state);
    if (states.every((s) => s.State === 'dead')) {
      return states.some((s) => s.Failed) ? { status: 'failed', description: 'Failed tasks' } : { status: 'complete', description: 'All tasks have completed' };
    }
    if (states.some((s) => s.State === 'running')) return { status: 'running', description: 'Tasks are running' };
    return { status: 'pending', description: 'No tasks have started' };
  }

  taskStates(): Record<string, TaskState> {
    const out: Record<string, TaskState> = {};
    for (const r of this.runners) out[r.name] = structuredClone(r.state);
    return out;
  }

  private report(): void {
    this.deps.onUpdate({
      ID: this.alloc.ID,
      ClientStatus: this.status,
      ClientDescription: this.description,
      TaskStates: this.taskStates(),
      ModifyTime: Date.now() * 1e6,
      ...(this.alloc.DeploymentStatus ? { DeploymentStatus: this.alloc.DeploymentStatus } : {}),
    });
  }
}
