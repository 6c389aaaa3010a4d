/**
 * Runs one task of an allocation through its driver: start, wait, apply the restart policy,
 * and record every step as a Nomad task event (Received, Task Setup, Started, Terminated,
 * Restarting, Not Restarting, Killing, Killed) so `alloc status` tells the story.
 */
import type { Logger } from 'pino';
import { TaskEventType, type Allocation, type TaskEvent, type TaskState } from '../../structs/alloc.js';
import type { Task } from '../../structs/job.js';
import type { AllocatedResources, AllocatedTaskResources, NetworkResource } from '../../structs/resources.js';
import type { Driver, ExecOptions, ExecResult, ExitResult, TaskHandle, TaskStats } from '../../drivers/driver.js';
import { formatDuration } from '../../structs/duration.js';
import { YurtError } from '../../structs/errors.js';
import type { AllocDir } from './alloc-dir.js';
import { RestartTracker } from './restart-policy.js';
import { checkSignalName } from './signal-name.js';

/** Nomad keeps the last 10 events per task. */
const MAX_EVENTS = 10;

export function taskEvent(type: string, fields: Partial<TaskEvent> = {}): TaskEvent {
  return {
    Type: type,
    Time: Date.now() * 1e6,
    Message: '',
    DisplayMessage: fields.DisplayMessage ?? fields.Message ?? '',
    Details: {},
    FailsTask: false,
    ExitCode: 0,
    Signal: 0,
    RestartReason: '',
    DriverError: '',
    KillTimeout: 0,
    ...fields,
  };
}

export interface TaskRunnerDeps {
  alloc: Allocation;
  task: Task;
  driver: Driver | undefined;
  allocDir: AllocDir;
  env: Record<string, string>;
  logger: Logger;
  onChange: () => void;
  /** Called with the driver handle when the task starts, and with null when it has exited. */
  onHandle: (handle: TaskHandle | null) => Promise<void>;
  /** State saved before an agent restart: reattach to the task instead of starting it again. */
  restore?: { state: TaskState; handle: TaskHandle | null };
  /** The client's `max_kill_timeout`: no task's kill_timeout waits longer (default none). */
  maxKillTimeoutMs?: number;
}

export class TaskRunner {
  readonly state: TaskState = { State: 'pending', Failed: false, Restarts: 0, LastRestart: null, StartedAt: null, FinishedAt: null, Events: [] };
  private killRequested = false;
  private restartWait: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  private taskId: string;
  private runningNow = false;
  /** An operator asked for a restart: the next exit restarts the task at once, outside the policy. */
  private restartRequested = false;
  /** The driver's handle of the running task (`alloc exec` needs it); null when none runs. */
  private handle: TaskHandle | null = null;

  constructor(private readonly d: TaskRunnerDeps) {
    this.taskId = `${d.alloc.ID}/${d.task.Name}`;
    if (d.restore) Object.assign(this.state, structuredClone(d.restore.state));
    else this.emit(taskEvent(TaskEventType.Received, { DisplayMessage: 'Task received by client' }));
    this.handle = d.restore?.handle ?? null;
  }

  get name(): string {
    return this.d.task.Name;
  }

  isDead(): boolean {
    return this.state.State === 'dead';
  }

  /** Run until the task is done (finished, failed for good, or killed). */
  async run(): Promise<void> {
    const { task, driver } = this.d;
    if (!driver) {
      this.finish(true, taskEvent(TaskEventType.DriverFailure, { DisplayMessage: `driver "${task.Driver}" is not available on this node`, FailsTask: true }));
      return;
    }
    const configErrors = driver.validateConfig(task.Config);
    if (configErrors.length > 0) {
      this.finish(true, taskEvent(TaskEventType.DriverFailure, { DisplayMessage: `invalid ${task.Driver} config: ${configErrors.join('; ')}`, FailsTask: true }));
      return;
    }
    const policy = task.RestartPolicy ?? this.d.alloc.Job.TaskGroups.find((g) => g.Name === this.d.alloc.TaskGroup)?.RestartPolicy;
    const ephemeral = task.Lifecycle !== undefined && !task.Lifecycle.Sidecar;
    const tracker = new RestartTracker(policy ?? { Attempts: 0, Interval: 0, Delay: 0, Mode: 'fail' }, this.d.alloc.Job.Type, Math.random, ephemeral);
    if (this.d.restore?.state.State === 'dead') return;
    let recovered = false;
    /** Set when the task was running before a restart and could not be reattached. */
    let lostInRestart: ExitResult | null = null;
    if (this.d.restore?.handle) {
      recovered = await driver.recover(this.d.restore.handle).catch((err: unknown) => {
        this.d.logger.warn({ err, task: task.Name }, 'could not reattach to task after restart');
        return false;
      });
      this.d.logger.info({ task: task.Name, recovered }, recovered ? 'reattached to task after restart' : 'task did not survive the restart');
      if (!recovered) {
        // Nomad's rule: an unrecoverable task is reported and then follows its restart policy.
        this.emit(taskEvent(TaskEventType.FailedRestoring, { DisplayMessage: 'failed to restore task; will follow the restart policy', FailsTask: false }));
        lostInRestart = { exitCode: -1, signal: 0, oomKilled: false, err: 'failed to restore task' };
      }
    }
    if (recovered && this.killRequested) {
      // Killed while reattaching: the task runs on, so stop it now that we hold it again.
      this.runningNow = true;
      await this.stopTask();
      await this.waitExit(driver).catch(() => undefined);
      this.runningNow = false;
      recovered = false;
    }
    if (!this.d.restore) this.emit(taskEvent(TaskEventType.TaskSetup, { DisplayMessage: 'Building Task Directory', Message: 'Building Task Directory' }));
    while (!this.killRequested) {
      let exit: ExitResult;
      try {
        if (lostInRestart) {
          exit = lostInRestart;
          lostInRestart = null;
        } else if (recovered) {
          recovered = false;
          this.runningNow = true;
          exit = await this.waitExit(driver);
        } else {
          exit = await this.startAndWait(driver, task);
        }
      } catch (err) {
        this.runningNow = false;
        const msg = err instanceof Error ? err.message : String(err);
        this.d.logger.warn({ err, task: task.Name }, 'task failed to start');
        exit = { exitCode: -1, signal: 0, oomKilled: false, err: msg };
        this.emit(taskEvent(TaskEventType.DriverFailure, { DisplayMessage: `failed to start task "${task.Name}": ${msg}`, DriverError: msg }));
      }
      if (this.killRequested) break;
      if (exit.err === undefined) {
        if (exit.oomKilled) this.emit(taskEvent(TaskEventType.OOMKilled, { DisplayMessage: 'OOM Killed' }));
        this.emit(
          taskEvent(TaskEventType.Terminated, {
            DisplayMessage: `Exit Code: ${exit.exitCode}${exit.signal ? `, Signal: ${exit.signal}` : ''}${exit.oomKilled ? ', Exit Message: "OOM Killed"' : ''}`,
            ExitCode: exit.exitCode,
            Signal: exit.signal,
            Details: { exit_code: String(exit.exitCode), signal: String(exit.signal), oom_killed: String(exit.oomKilled) },
          }),
        );
      }
      if (this.restartRequested) {
        // Nomad: a signaled restart bypasses the restart tracker, so it never fails the task.
        this.restartRequested = false;
        this.beginRestart(0, '');
        continue;
      }
      const ok = exit.err === undefined && exit.exitCode === 0 && exit.signal === 0;
      const decision = tracker.next(ok, Date.now());
      switch (decision.kind) {
        case 'done':
          this.finish(false, null);
          return;
        case 'fail':
          this.finish(true, taskEvent(TaskEventType.NotRestarting, { DisplayMessage: decision.reason, RestartReason: decision.reason, FailsTask: true }));
          return;
        case 'restart':
          this.beginRestart(decision.delayMs, decision.reason);
          await this.sleep(decision.delayMs);
          break;
      }
    }
    this.finish(false, taskEvent(TaskEventType.Killed, { DisplayMessage: 'Task successfully killed' }));
  }

  /**
   * Nomad's "Restarting" step: the task waits to start again (its state is pending meanwhile,
   * as in Nomad) and the restart is counted on the task state.
   */
  private beginRestart(delayMs: number, reason: string): void {
    this.state.State = 'pending';
    this.state.Restarts++;
    this.state.LastRestart = new Date().toISOString();
    this.emit(
      taskEvent(TaskEventType.Restarting, {
        DisplayMessage: `Task restarting in ${formatDuration(Math.round(delayMs) * 1e6)}`,
        RestartReason: reason,
        Details: { start_delay: String(Math.round(delayMs) * 1e6), ...(reason !== '' ? { restart_reason: reason } : {}) },
      }),
    );
  }

  /** The task is started and has not exited (also while it is being restarted on request). */
  isRunning(): boolean {
    return this.runningNow && !this.killRequested;
  }

  /**
   * Restart the running task in place (`alloc restart`): "Restart Signaled", then the task is
   * stopped with its kill signal and started again at once. Not counted against the restart policy.
   */
  async restart(reason = 'User requested restart'): Promise<void> {
    const driver = this.d.driver;
    if (!this.isRunning() || !driver) throw new YurtError('conflict', `Task not running: ${this.name}`);
    if (this.restartRequested) return;
    this.restartRequested = true;
    this.emit(taskEvent(TaskEventType.RestartSignal, { DisplayMessage: reason, RestartReason: reason }));
    await this.stopTask();
  }

  /** Send a signal to the running task (`alloc signal`), recorded as a "Signaling" event. */
  async signal(signal: string): Promise<void> {
    const driver = this.d.driver;
    const name = checkSignalName(signal);
    if (!this.isRunning() || !driver) throw new YurtError('conflict', `Task not running: ${this.name}`);
    this.emit(taskEvent(TaskEventType.Signaling, { DisplayMessage: `Task being sent signal ${name}`, Details: { signal: name } }));
    await driver.signal(this.taskId, name);
  }

  /** `alloc exec`: run a command in the running task's environment (its env, dir, user, isolation). */
  async exec(opts: Omit<ExecOptions, 'env'>): Promise<ExecResult> {
    const { run, handle } = this.execTarget();
    return run(handle, { ...opts, env: this.d.env });
  }

  /** Throws the error a user should see when `alloc exec` cannot reach this task now. */
  checkExec(): void {
    this.execTarget();
  }

  private execTarget(): { handle: TaskHandle; run: (handle: TaskHandle, opts: ExecOptions) => Promise<ExecResult> } {
    const driver = this.d.driver;
    if (!driver || !this.runningNow || this.handle === null) throw new YurtError('conflict', `task "${this.name}" is not running (state ${this.state.State})`);
    if (driver.exec === undefined || !driver.capabilities().exec) {
      throw new YurtError('unavailable', `driver ${driver.name} of task "${this.name}" does not support exec`);
    }
    const exec = driver.exec.bind(driver);
    return { handle: this.handle, run: exec };
  }

  /** The driver's current usage figures for the task; null when it is not running. */
  async stats(): Promise<TaskStats | null> {
    const driver = this.d.driver;
    if (!this.runningNow || !driver) return null;
    return driver.stats(this.taskId).catch(() => null);
  }

  private async startAndWait(driver: Driver, task: Task): Promise<ExitResult> {
    const handle = await driver.start({
      id: this.taskId,
      allocId: this.d.alloc.ID,
      jobId: this.d.alloc.JobID,
      taskGroup: this.d.alloc.TaskGroup,
      task,
      env: this.d.env,
      resources: taskResources(this.d.alloc.AllocatedResources, task),
      allocDir: this.d.allocDir.root,
      taskDir: this.d.allocDir.taskDir(task.Name),
      stdoutPath: this.d.allocDir.logPath(task.Name, 'stdout'),
      stderrPath: this.d.allocDir.logPath(task.Name, 'stderr'),
    });
    this.runningNow = true;
    // A kill that arrived while the driver was starting the task found nothing to stop yet.
    if (this.killRequested) void this.stopTask();
    this.state.State = 'running';
    this.state.StartedAt ??= new Date().toISOString();
    this.handle = handle;
    await this.d.onHandle(handle);
    this.emit(taskEvent(TaskEventType.Started, { DisplayMessage: 'Task started by client' }));
    return this.waitExit(driver);
  }

  private async waitExit(driver: Driver): Promise<ExitResult> {
    const exit = await driver.wait(this.taskId);
    this.runningNow = false;
    this.handle = null;
    await driver.destroy(this.taskId).catch(() => undefined);
    await this.d.onHandle(null);
    return exit;
  }

  /** The task will never run (an earlier lifecycle stage failed or the allocation stopped first). */
  markNotRun(reason: string): void {
    if (this.state.State !== 'pending') return;
    this.killRequested = true;
    this.finish(false, taskEvent(TaskEventType.Killed, { DisplayMessage: reason }));
  }

  /** Lifecycle of the task per its `lifecycle` block; main tasks have none. */
  get hook(): 'prestart' | 'poststart' | 'poststop' | 'main' {
    return this.d.task.Lifecycle?.Hook ?? 'main';
  }

  get sidecar(): boolean {
    return this.d.task.Lifecycle?.Sidecar === true;
  }

  get leader(): boolean {
    return this.d.task.Leader;
  }

  /** Stop the task (signal, kill_timeout, then SIGKILL) and keep it from restarting. */
  async kill(reason: string): Promise<void> {
    if (this.killRequested || this.isDead()) return;
    this.killRequested = true;
    if (this.restartWait) {
      clearTimeout(this.restartWait.timer);
      this.restartWait.resolve();
    }
    this.emit(taskEvent(TaskEventType.Killing, { DisplayMessage: reason, KillTimeout: this.killTimeoutMs() * 1e6 }));
    if (this.runningNow) await this.stopTask();
  }

  /** The task's kill_timeout, capped by the client's max_kill_timeout as Nomad caps it. */
  private killTimeoutMs(): number {
    return Math.min(this.d.task.KillTimeout / 1e6, this.d.maxKillTimeoutMs ?? Number.POSITIVE_INFINITY);
  }

  /** The task's kill signal, kill_timeout, then SIGKILL. */
  private async stopTask(): Promise<void> {
    if (!this.d.driver) return;
    await this.d.driver.stop(this.taskId, this.d.task.KillSignal || 'SIGINT', this.killTimeoutMs()).catch((err: unknown) => {
      this.d.logger.warn({ err, task: this.d.task.Name }, 'stopping task failed');
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.restartWait = null;
        resolve();
      }, ms);
      this.restartWait = { timer, resolve };
    });
  }

  private finish(failed: boolean, ev: TaskEvent | null): void {
    if (ev) this.pushEvent(ev);
    this.state.State = 'dead';
    this.state.Failed = failed;
    this.state.FinishedAt = new Date().toISOString();
    this.d.onChange();
  }

  private emit(ev: TaskEvent): void {
    this.pushEvent(ev);
    this.d.onChange();
  }

  private pushEvent(ev: TaskEvent): void {
    this.state.Events.push(ev);
    if (this.state.Events.length > MAX_EVENTS) this.state.Events.splice(0, this.state.Events.length - MAX_EVENTS);
  }
}

/**
 * What the driver gets: the task's own resources plus the group's network (Nomad's
 * `network { port "http" {} }` at group level, whose ports every task of the group may map,
 * e.g. docker's `ports = ["http"]`).
 */
export function taskResources(ar: AllocatedResources, task: Task): AllocatedTaskResources {
  const own: AllocatedTaskResources = ar.Tasks[task.Name] ?? {
    Cpu: { CpuShares: task.Resources.CPU, ReservedCores: [] },
    Memory: { MemoryMB: task.Resources.MemoryMB, MemoryMaxMB: task.Resources.MemoryMaxMB },
    Networks: [],
    Devices: [],
  };
  const ports = ar.Shared.Ports;
  const group: NetworkResource[] =
    ports.length > 0
      ? [
          {
            Mode: 'host',
            Device: '',
            CIDR: '',
            IP: ports[0]?.HostIP ?? '',
            MBits: 0,
            ReservedPorts: [],
            DynamicPorts: ports.map((p) => ({ Label: p.Label, Value: p.Value, To: p.To, HostNetwork: 'default' })),
          },
        ]
      : ar.Shared.Networks;
  return { ...own, Networks: [...own.Networks, ...group] };
}
