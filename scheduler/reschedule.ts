/**
 * The `reschedule` policy for failed service and batch allocations (Nomad's
 * Allocation.RescheduleEligible / NextDelay / NextRescheduleTime): how many attempts fit in the
 * interval, how long to wait before the next one (constant, exponential or fibonacci, capped at
 * max_delay, and back to `delay` once the allocation ran longer than the cap), and whether that
 * wait is over now or needs a follow-up evaluation later.
 */
import type { Allocation } from '../structs/alloc.js';
import type { Job, ReschedulePolicy, TaskGroup } from '../structs/job.js';
import { defaultReschedulePolicy } from '../structs/job-defaults.js';

/** Failures this close to now are rescheduled at once (Nomad's rescheduleWindowSize, 1 s). */
export const RESCHEDULE_WINDOW_NS = 1e9;
/** Follow-up evaluations this close together are merged into one (Nomad's batchedFailedAllocWindowSize, 5 s). */
export const FOLLOWUP_BATCH_WINDOW_NS = 5e9;

export type RescheduleDecision = { kind: 'now'; delay: number } | { kind: 'later'; at: number; delay: number } | { kind: 'never' };

export function reschedulePolicy(job: Job, tg: TaskGroup): ReschedulePolicy | undefined {
  return tg.ReschedulePolicy ?? defaultReschedulePolicy(job.Type);
}

/** When the allocation failed: its last task to finish, else its last modification. */
export function failTime(a: Allocation): number {
  let latest = 0;
  for (const ts of Object.values(a.TaskStates)) {
    if (ts.FinishedAt === null) continue;
    const t = Date.parse(ts.FinishedAt);
    if (Number.isFinite(t)) latest = Math.max(latest, t * 1e6);
  }
  return latest > 0 ? latest : a.ModifyTime;
}

export function rescheduleEligible(a: Allocation, p: ReschedulePolicy | undefined, failedAt: number): boolean {
  if (p === undefined) return false;
  if (p.Unlimited) return true;
  if (p.Attempts <= 0) return false;
  const events = a.RescheduleTracker?.Events ?? [];
  const attempted = events.filter((e) => failedAt - e.RescheduleTime < p.Interval).length;
  return attempted < p.Attempts;
}

/** Nomad's NextDelay. */
export function nextDelay(a: Allocation, p: ReschedulePolicy, failedAt: number): number {
  const events = a.RescheduleTracker?.Events ?? [];
  let delay = p.Delay;
  if (events.length === 0) return delay;
  const last = events[events.length - 1]!;
  switch (p.DelayFunction) {
    case 'exponential':
      delay = last.Delay * 2;
      break;
    case 'fibonacci':
      if (events.length >= 2) {
        const prev = events[events.length - 2]!;
        // A series that hit the ceiling and was reset starts over.
        delay = prev.Delay === p.MaxDelay && last.Delay === p.Delay ? last.Delay : last.Delay + prev.Delay;
      }
      break;
    case 'constant':
      return delay;
  }
  if (p.MaxDelay > 0 && delay > p.MaxDelay) {
    delay = p.MaxDelay;
    // It ran longer than the cap since the last reschedule: it was healthy for a while, start over.
    if (failedAt - last.RescheduleTime > delay) delay = p.Delay;
  }
  return delay;
}

/**
 * What to do about a failed allocation. `evalId` lets the follow-up evaluation that was created
 * for this allocation reschedule it even a little before its time.
 */
export function rescheduleDecision(job: Job, tg: TaskGroup, a: Allocation, now: number, evalId: string): RescheduleDecision {
  const p = reschedulePolicy(job, tg);
  const failedAt = failTime(a);
  if (p === undefined || !rescheduleEligible(a, p, failedAt)) return { kind: 'never' };
  const delay = nextDelay(a, p, failedAt);
  const at = failedAt + delay;
  if (at <= now + RESCHEDULE_WINDOW_NS || (a.FollowupEvalID !== '' && a.FollowupEvalID === evalId)) return { kind: 'now', delay };
  return { kind: 'later', at, delay };
}
