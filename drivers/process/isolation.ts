/**
 * The seam between the shared supervision code and a driver's isolation (the exec driver's
 * per-task cgroup). raw_exec has none: it tracks a task by its session alone.
 */

export interface ResourceUsage {
  /** Total CPU time consumed, nanoseconds. */
  cpuNs: number;
  rssBytes: number;
}

export interface TaskIsolation {
  /** cgroup.procs files the task's first process writes its pid to before it execs. */
  readonly joinFiles: string[];
  /** Kill every process of the task, including those that left its session. */
  killAll(): Promise<void>;
  /** Whether the kernel's OOM killer killed a process of the task. */
  oomKilled(): Promise<boolean>;
  usage(): Promise<ResourceUsage | null>;
  /** Remove what was created for the task. Idempotent. */
  release(): Promise<void>;
  /** Plain JSON for the task handle, read back by the driver's `restoreIsolation`. */
  toState(): Record<string, unknown>;
}
