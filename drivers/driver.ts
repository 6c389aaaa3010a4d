/**
 * The task driver interface: where tasks meet the machine. Every driver (exec, raw_exec,
 * docker, wasi) implements it; the client's task runner only ever talks to this.
 * Drivers import structs/ only.
 */
import type { Readable, Writable } from 'node:stream';
import type { Task } from '../structs/job.js';
import type { AllocatedTaskResources } from '../structs/resources.js';

/** What a driver reports about itself on this host (becomes `Node.Drivers[name]` and `attr.driver.<name>`). */
export interface DriverFingerprint {
  detected: boolean;
  healthy: boolean;
  healthDescription: string;
  /** Node attributes this driver adds, with their full names, e.g. `{ 'driver.docker.version': '20.10.24' }`. */
  attributes: Record<string, string>;
}

export interface DriverCapabilities {
  /** Signals can be sent to the task. */
  sendSignals: boolean;
  /** `alloc exec` into the task is possible. */
  exec: boolean;
  /** Filesystem isolation: none (raw_exec), chroot (exec) or image (docker). */
  fsIsolation: 'none' | 'chroot' | 'image';
  /**
   * The task inherits the client agent's environment beneath its own variables (less
   * `env.denylist`), as Nomad's exec and raw_exec tasks do; not those that start from an image.
   */
  hostEnv: boolean;
}

/** Everything a driver needs to start one task. */
export interface TaskConfig {
  /** Unique per task instance: `<allocId>/<taskName>`. */
  id: string;
  allocId: string;
  jobId: string;
  taskGroup: string;
  task: Task;
  env: Record<string, string>;
  resources: AllocatedTaskResources;
  /**
   * Host paths: the allocation's root directory (its shared dir is `<allocDir>/alloc`) and this
   * task's own directory (with local/, secrets/, tmp/).
   */
  allocDir: string;
  taskDir: string;
  /** Files the driver appends the task's stdout and stderr to. */
  stdoutPath: string;
  stderrPath: string;
}

/**
 * A started task. Serializable (plain JSON) so the client can persist it and hand it back to
 * `recover` after an agent restart.
 */
export interface TaskHandle {
  driver: string;
  taskId: string;
  /** Unix milliseconds. */
  startedAt: number;
  /** Driver-specific state needed to find the task again (pid, container id, ...). */
  state: Record<string, unknown>;
}

export interface ExitResult {
  exitCode: number;
  /** Signal number that ended the task, 0 if none. */
  signal: number;
  oomKilled: boolean;
  /** Set when the driver itself failed (could not wait on the task, for instance). */
  err?: string;
}

/** What a driver knows about one of its tasks right now (`inspect`). */
export interface TaskStatus {
  taskId: string;
  state: 'running' | 'exited';
  /** Unix milliseconds. */
  startedAt: number;
  exit: ExitResult | null;
  /** Driver-specific facts worth showing an operator (pid, container id, image, module). */
  details: Record<string, string | number | boolean>;
}

export interface TaskStats {
  /** Unix milliseconds. */
  timestamp: number;
  cpuPercent: number;
  memoryRssBytes: number;
}

/** One command run inside a running task's environment (`alloc exec`). */
export interface ExecOptions {
  /** Program and arguments; the program is looked up in the task's PATH. */
  command: string[];
  /** The task's environment; the driver adapts it where the task sees other paths (chroot). */
  env?: Record<string, string>;
  /** Piped to the command's stdin; null gives it an empty, closed stdin. */
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
  /** Aborting kills the command (the user went away). */
  signal?: AbortSignal;
  /**
   * Run the command on a terminal (`alloc exec -t`): stdout and stderr become the one
   * terminal stream (written to `stdout`), sized as the user's terminal is.
   */
  tty?: ExecTty;
}

/** The user's terminal for an `alloc exec -t` session: its size now, and its changes. */
export interface ExecTty {
  readonly rows: number;
  readonly cols: number;
  /** Calls `listener` with each new size. */
  onResize(listener: (rows: number, cols: number) => void): void;
}

export interface ExecResult {
  exitCode: number;
}

export interface Driver {
  readonly name: string;
  fingerprint(): Promise<DriverFingerprint>;
  capabilities(): DriverCapabilities;
  /** Check `task.Config` for this driver; returns human-readable errors (empty when valid). */
  validateConfig(config: Record<string, unknown>): string[];
  start(cfg: TaskConfig): Promise<TaskHandle>;
  /** Resolves once the task has exited (also for a recovered task). */
  wait(taskId: string): Promise<ExitResult>;
  /** Send `signal`, wait up to `timeoutMs`, then kill. Resolves once the task is gone. */
  stop(taskId: string, signal: string, timeoutMs: number): Promise<void>;
  /** Free everything the task held (containers, cgroups). Idempotent. */
  destroy(taskId: string): Promise<void>;
  /** Reattach to a task started before an agent restart; false when it is gone. */
  recover(handle: TaskHandle): Promise<boolean>;
  signal(taskId: string, signal: string): Promise<void>;
  /** The task's current status, or null for a task this driver does not know. */
  inspect(taskId: string): Promise<TaskStatus | null>;
  stats(taskId: string): Promise<TaskStats | null>;
  /**
   * Run a command in the running task's environment (same filesystem view, user, namespaces
   * and cgroup as the task) and stream its stdio; resolves with its exit code. Only drivers
   * whose capabilities() say `exec: true` have it.
   */
  exec?(handle: TaskHandle, opts: ExecOptions): Promise<ExecResult>;
}
