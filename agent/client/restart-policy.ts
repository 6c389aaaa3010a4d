/**
 * Nomad's restart tracker: after a task exits, decide whether to restart it and after how
 * long. Batch tasks that exit 0 are done; anything else is restarted up to `Attempts` times per
 * `Interval`, `Delay` apart (plus up to 25% jitter so a fleet does not restart in lockstep).
 * Past the limit, mode "fail" fails the task and mode "delay" waits for the interval to end.
 */
import type { JobType, RestartPolicy } from '../../structs/job.js';

export type RestartDecision =
  | { kind: 'restart'; delayMs: number; reason: string }
  | { kind: 'done'; reason: string }
  | { kind: 'fail'; reason: string };

export const REASON_WITHIN_POLICY = 'Restart within policy';
export const REASON_NO_RESTARTS = 'Policy allows no restarts';
export const REASON_UNNECESSARY = 'Restart unnecessary as task terminated successfully';
export const REASON_EXCEEDED = 'Exceeded allowed attempts';

export class RestartTracker {
  private intervalStart = 0;
  private count = 0;

  constructor(
    private readonly policy: RestartPolicy,
    private readonly jobType: JobType,
    private readonly random: () => number = Math.random,
  ) {}

  /** @param nowMs wall clock in ms; `failed` is true for a non-zero exit, a signal or a start failure. */
  next(exitedOk: boolean, nowMs: number): RestartDecision {
    if (exitedOk && (this.jobType === 'batch' || this.jobType === 'sysbatch')) return { kind: 'done', reason: REASON_UNNECESSARY };
    const intervalMs = this.policy.Interval / 1e6;
    if (this.intervalStart === 0 || nowMs - this.intervalStart > intervalMs) {
      this.intervalStart = nowMs;
      this.count = 0;
    }
    const delayMs = this.policy.Delay / 1e6;
    const jitter = this.random() * delayMs * 0.25;
    if (this.count < this.policy.Attempts) {
      this.count++;
      return { kind: 'restart', delayMs: delayMs + jitter, reason: REASON_WITHIN_POLICY };
    }
    if (this.policy.Mode === 'delay') {
      const wait = Math.max(0, this.intervalStart + intervalMs - nowMs);
      this.intervalStart = 0;
      return { kind: 'restart', delayMs: wait + jitter, reason: `${REASON_EXCEEDED} in interval and the restart mode is "delay"` };
    }
    return { kind: 'fail', reason: this.policy.Attempts === 0 ? REASON_NO_RESTARTS : `${REASON_EXCEEDED} (${this.policy.Attempts}) in interval (${Math.round(intervalMs / 1000)}s)` };
  }
}
