/**
 * Nomad's restart tracker (client/allocrunner/taskrunner/restarts): after a task exits,
 * decide whether to restart it and after how long. Batch tasks that exit 0 are done; anything
 * else is restarted up to `Attempts` times per `Interval`, `Delay` apart (plus up to 25% jitter
 * so a fleet does not restart in lockstep). Past the limit, mode "fail" fails the task and mode
 * "delay" waits for the interval to end, then starts a new one. A restart an operator asks
 * for (`alloc restart`) is not a failure and never counts against the policy.
 */
import type { JobType, RestartPolicy } from '../../structs/job.js';
import { formatDuration } from '../../structs/duration.js';

export type RestartDecision =
  | { kind: 'restart'; delayMs: number; reason: string }
  | { kind: 'done'; reason: string }
  | { kind: 'fail'; reason: string };

export const REASON_WITHIN_POLICY = 'Restart within policy';
export const REASON_NO_RESTARTS = 'Policy allows no restarts';
export const REASON_UNNECESSARY = 'Restart unnecessary as task terminated successfully';
export const REASON_DELAY = 'Exceeded allowed attempts, applying a delay';

/** Nomad's words when mode "fail" gives up, with Go's duration spelling ("30m0s"). */
export function reasonExceeded(policy: RestartPolicy): string {
  return `Exceeded allowed attempts ${policy.Attempts} in interval ${formatDuration(policy.Interval)} and mode is "fail"`;
}

export class RestartTracker {
  /** Start of the current interval (ms); null before the first failure. */
  private intervalStart: number | null = null;
  private count = 0;

  constructor(
    private readonly policy: RestartPolicy,
    private readonly jobType: JobType,
    private readonly random: () => number = Math.random,
    /** A prestart/poststart/poststop task that is not a sidecar: it is meant to finish. */
    private readonly ephemeral = false,
  ) {}

  /** @param exitedOk false for a non-zero exit, a signal or a start failure; @param nowMs wall clock in ms. */
  next(exitedOk: boolean, nowMs: number): RestartDecision {
    // Nomad restarts service and system tasks even after a clean exit: they are meant to run.
    // Batch work and non-sidecar lifecycle tasks are meant to finish.
    if (exitedOk && (this.ephemeral || this.jobType === 'batch' || this.jobType === 'sysbatch')) return { kind: 'done', reason: REASON_UNNECESSARY };
    if (this.policy.Attempts <= 0) return { kind: 'fail', reason: REASON_NO_RESTARTS };
    const intervalMs = this.policy.Interval / 1e6;
    if (this.intervalStart === null || nowMs > this.intervalStart + intervalMs) {
      this.intervalStart = nowMs;
      this.count = 0;
    }
    this.count++;
    if (this.count <= this.policy.Attempts) {
      const delayMs = this.policy.Delay / 1e6;
      return { kind: 'restart', delayMs: delayMs + this.random() * delayMs * 0.25, reason: REASON_WITHIN_POLICY };
    }
    if (this.policy.Mode === 'fail') return { kind: 'fail', reason: reasonExceeded(this.policy) };
    // Mode "delay": wait out the rest of the interval; the next failure then opens a new one.
    return { kind: 'restart', delayMs: Math.max(0, this.intervalStart + intervalMs - nowMs), reason: REASON_DELAY };
  }
}
