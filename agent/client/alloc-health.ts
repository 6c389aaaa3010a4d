/**
 * Allocation health for deployments, as Nomad's client judges it with
 * `update { health_check = "task_states" }` (and "checks", which without service checks
 * comes to the same): healthy once every task that must keep running (main tasks and
 * sidecars) has been running without interruption for `min_healthy_time`; unhealthy when a
 * task fails or `healthy_deadline` passes first. The verdict is reached once; "manual" leaves
 * it to the operator. Pure except for the clock and timers, which are injected.
 */
import type { AllocDeploymentStatus, Allocation, TaskState } from '../../structs/alloc.js';
import type { Task } from '../../structs/job.js';

export interface HealthClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const realClock: HealthClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Tasks whose running state decides health: main tasks and sidecars; one-shot hooks do not count. */
function mustRun(t: Task): boolean {
  const hook = t.Lifecycle?.Hook;
  if (hook === undefined) return true;
  return hook !== 'poststop' && t.Lifecycle?.Sidecar === true;
}

export class AllocHealthTracker {
  private verdict: AllocDeploymentStatus | null = null;
  /** Since when every task that must run has been running; null when one is not. */
  private runningSince: number | null = null;
  private minTimer: { cancel(): void } | null = null;
  private deadlineTimer: { cancel(): void } | null = null;
  private readonly watched: Set<string>;

  /**
   * @returns null for allocations whose health is not tracked (no `update` block, manual
   * health, or not a service job), or a tracker that calls `onVerdict` once.
   */
  static forAlloc(alloc: Allocation, onVerdict: (s: AllocDeploymentStatus) => void, clock: HealthClock = realClock): AllocHealthTracker | null {
    if (alloc.Job.Type !== 'service') return null;
    const tg = alloc.Job.TaskGroups.find((g) => g.Name === alloc.TaskGroup);
    const u = tg?.Update;
    if (!tg || !u || u.HealthCheck === 'manual') return null;
    if (alloc.DeploymentStatus?.Healthy === true || alloc.DeploymentStatus?.Healthy === false) return null;
    return new AllocHealthTracker(new Set(tg.Tasks.filter(mustRun).map((t) => t.Name)), u.MinHealthyTime / 1e6, u.HealthyDeadline / 1e6, onVerdict, clock);
  }

  private constructor(
    watched: Set<string>,
    private readonly minHealthyMs: number,
    healthyDeadlineMs: number,
    private readonly onVerdict: (s: AllocDeploymentStatus) => void,
    private readonly clock: HealthClock,
  ) {
    this.watched = watched;
    if (healthyDeadlineMs > 0) this.deadlineTimer = clock.setTimeout(() => this.decide(false), healthyDeadlineMs);
  }

  decided(): AllocDeploymentStatus | null {
    return this.verdict;
  }

  /** Feed the task states after every change. */
  observe(states: Record<string, TaskState>): void {
    if (this.verdict) return;
    const watched = [...this.watched].map((n) => states[n]);
    if (Object.values(states).some((s) => s.Failed)) {
      this.decide(false);
      return;
    }
    const allRunning = watched.length > 0 && watched.every((s) => s?.State === 'running');
    if (!allRunning) {
      // A restart interrupts the healthy stretch: min_healthy_time counts again from the next start.
      this.runningSince = null;
      this.minTimer?.cancel();
      this.minTimer = null;
      return;
    }
    if (this.runningSince !== null) return;
    this.runningSince = this.clock.now();
    this.minTimer = this.clock.setTimeout(() => this.decide(true), this.minHealthyMs);
  }

  /** The allocation stops being judged (stopped, collected, agent shutting down). */
  close(): void {
    this.minTimer?.cancel();
    this.deadlineTimer?.cancel();
  }

  private decide(healthy: boolean): void {
    if (this.verdict) return;
    this.close();
    this.verdict = { Healthy: healthy, Timestamp: new Date(this.clock.now()).toISOString(), Canary: false, ModifyIndex: 0 };
    this.onVerdict(this.verdict);
  }
}
