/**
 * The reconciler: compare what a job wants (its groups and counts) with the allocations that
 * exist, and decide what to place, what to stop and what to update in place. Allocations are
 * named `<job>.<group>[<index>]`; the reconciler keeps indexes 0..count-1 filled.
 */
import { isDeepStrictEqual } from 'node:util';
import { isClientTerminal, type Allocation } from '../structs/alloc.js';
import type { Job, TaskGroup } from '../structs/job.js';
import { rescheduleDecision } from './reschedule.js';

export interface Placement {
  tg: TaskGroup;
  name: string;
  /** The allocation this one replaces (a destructive update, a lost or a failed one), if any. */
  previous: Allocation | null;
  /** Set when `previous` failed and is rescheduled by its policy: the delay that was applied. */
  rescheduleDelay?: number;
}

/** A failed allocation whose reschedule waits until `at` (unix ns): a follow-up evaluation will do it. */
export interface RescheduleLater {
  alloc: Allocation;
  at: number;
}

export interface ReconcileOptions {
  /** Unix nanoseconds. */
  now: number;
  /** The evaluation being processed (its follow-up allocations are due). */
  evalId: string;
}

export interface Stop {
  alloc: Allocation;
  description: string;
  /** The server decides the outcome: the allocation's node is gone. */
  lost?: boolean;
}

export interface Reconciled {
  place: Placement[];
  stop: Stop[];
  /** Allocations whose job version changed without changing what they run: updated in place. */
  inplace: Allocation[];
  later: RescheduleLater[];
  /** Destructive updates held back by the rolling update's max_parallel, per group: a later evaluation does them. */
  deferred: Record<string, number>;
}

export const ALLOC_NOT_NEEDED = 'alloc not needed due to job update';
export const ALLOC_JOB_STOPPED = 'alloc not needed as job is stopped';
export const ALLOC_UPDATING = 'alloc is being updated due to job update';
export const ALLOC_LOST = 'alloc is lost since its node is down';
export const ALLOC_RESCHEDULED = 'alloc was rescheduled because it failed';

export function allocName(jobId: string, group: string, index: number): string {
  return `${jobId}.${group}[${index}]`;
}

export function allocIndex(name: string): number {
  const m = /\[(\d+)\]$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** Does an allocation still count towards its group's desired count? */
function counts(job: Job, a: Allocation): boolean {
  if (a.DesiredStatus !== 'run') return false;
  if (!isClientTerminal(a.ClientStatus)) return true;
  // A batch allocation that finished successfully is done: it is not run again.
  return (job.Type === 'batch' || job.Type === 'sysbatch') && a.ClientStatus === 'complete';
}

export function groupChanged(a: Allocation, tg: TaskGroup): boolean {
  const old = a.Job.TaskGroups.find((g) => g.Name === tg.Name);
  if (!old) return true;
  // Count changes are handled by adding/removing allocations, not by replacing them.
  return !isDeepStrictEqual({ ...old, Count: 0 }, { ...tg, Count: 0 });
}

/**
 * @param onDownNode tells whether an allocation's node is down (or gone): such allocations
 *   are marked lost and replaced elsewhere.
 */
export function reconcile(
  job: Job | null,
  allAllocs: Allocation[],
  onDownNode: (a: Allocation) => boolean = () => false,
  opts: ReconcileOptions = { now: 0, evalId: '' },
): Reconciled {
  const out: Reconciled = { place: [], stop: [], inplace: [], later: [], deferred: {} };
  const lost = new Set<string>();
  for (const a of allAllocs) {
    if (a.DesiredStatus === 'run' && !isClientTerminal(a.ClientStatus) && onDownNode(a)) {
      lost.add(a.ID);
      out.stop.push({ alloc: a, description: ALLOC_LOST, lost: true });
    }
  }
  const allocs = allAllocs.filter((a) => !lost.has(a.ID));
  const running = allocs.filter((a) => a.DesiredStatus === 'run' && !isClientTerminal(a.ClientStatus));
  if (job === null || job.Stop) {
    for (const a of running) out.stop.push({ alloc: a, description: ALLOC_JOB_STOPPED });
    return out;
  }
  const groups = new Map(job.TaskGroups.map((tg) => [tg.Name, tg]));
  for (const a of running) {
    if (!groups.has(a.TaskGroup)) out.stop.push({ alloc: a, description: ALLOC_NOT_NEEDED });
  }
  for (const tg of job.TaskGroups) {
    const live = allocs.filter((a) => a.TaskGroup === tg.Name && counts(job, a)).sort((x, y) => allocIndex(x.Name) - allocIndex(y.Name));
    const byIndex = new Map<number, Allocation>();
    for (const a of live) {
      const i = allocIndex(a.Name);
      if (i < 0 || i >= tg.Count || byIndex.has(i)) {
        if (!isClientTerminal(a.ClientStatus)) out.stop.push({ alloc: a, description: ALLOC_NOT_NEEDED });
        continue;
      }
      byIndex.set(i, a);
    }
    const lostByName = new Map(allAllocs.filter((a) => lost.has(a.ID) && a.TaskGroup === tg.Name).map((a) => [a.Name, a]));
    const failedByIndex = latestFailed(job, allocs, tg);
    let updateBudget = rollingUpdateBudget(job, tg, allocs);
    for (let i = 0; i < tg.Count; i++) {
      const a = byIndex.get(i);
      const failed = a ? undefined : failedByIndex.get(i);
      if (failed) {
        // The index is taken by a failed allocation: its reschedule policy decides whether, and when, it is replaced.
        const d = rescheduleDecision(job, tg, failed, opts.now, opts.evalId);
        if (d.kind === 'now') {
          out.stop.push({ alloc: failed, description: ALLOC_RESCHEDULED });
          out.place.push({ tg, name: failed.Name, previous: failed, rescheduleDelay: d.delay });
        } else if (d.kind === 'later' && failed.FollowupEvalID === '') {
          out.later.push({ alloc: failed, at: d.at });
        }
        continue;
      }
      if (!a) {
        const name = allocName(job.ID, tg.Name, i);
        out.place.push({ tg, name, previous: lostByName.get(name) ?? null });
        continue;
      }
      if (isClientTerminal(a.ClientStatus) || a.Job.JobModifyIndex === job.JobModifyIndex) continue;
      if (groupChanged(a, tg)) {
        if (updateBudget <= 0) {
          out.deferred[tg.Name] = (out.deferred[tg.Name] ?? 0) + 1;
          continue;
        }
        updateBudget--;
        out.stop.push({ alloc: a, description: ALLOC_UPDATING });
        out.place.push({ tg, name: a.Name, previous: a });
      } else {
        out.inplace.push(a);
      }
    }
  }
  return out;
}

/**
 * How many destructive updates of a group may start now (Nomad's rolling update, `update {
 * max_parallel }`): max_parallel minus the allocations of the new version still on their way to
 * healthy (running or pending, not yet judged healthy by their client). When one of those turns
 * healthy the servers evaluate the job again and the next ones are replaced. Without an update
 * strategy, with max_parallel 0, or for batch jobs (Nomad has no rolling updates for them),
 * everything is replaced at once. Canaries are not modelled.
 */
export function rollingUpdateBudget(job: Job, tg: TaskGroup, allocs: Allocation[]): number {
  const strategy = tg.Update ?? job.Update;
  if (job.Type === 'batch' || job.Type === 'sysbatch' || strategy === undefined || strategy.MaxParallel <= 0) return Number.POSITIVE_INFINITY;
  let inFlight = 0;
  for (const a of allocs) {
    if (a.TaskGroup !== tg.Name || a.DesiredStatus !== 'run') continue;
    if (a.ClientStatus !== 'running' && a.ClientStatus !== 'pending') continue;
    if (a.Job.JobModifyIndex !== job.JobModifyIndex) continue;
    if (a.DeploymentStatus?.Healthy !== true) inFlight++;
  }
  return strategy.MaxParallel - inFlight;
}

/**
 * Per index, the newest failed allocation of a group that nothing has replaced yet (service and
 * batch only: system jobs are placed per node).
 */
function latestFailed(job: Job, allocs: Allocation[], tg: TaskGroup): Map<number, Allocation> {
  const out = new Map<number, Allocation>();
  if (job.Type !== 'service' && job.Type !== 'batch') return out;
  for (const a of allocs) {
    if (a.TaskGroup !== tg.Name || a.DesiredStatus !== 'run' || a.ClientStatus !== 'failed' || a.NextAllocation !== '') continue;
    const i = allocIndex(a.Name);
    const prev = out.get(i);
    if (!prev || a.CreateIndex > prev.CreateIndex) out.set(i, a);
  }
  return out;
}
