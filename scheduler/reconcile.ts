/**
 * The reconciler: compare what a job wants (its groups and counts) with the allocations that
 * exist, and decide what to place, what to stop and what to update in place. Allocations are
 * named `<job>.<group>[<index>]`; the reconciler keeps indexes 0..count-1 filled.
 */
import { isDeepStrictEqual } from 'node:util';
import { isClientTerminal, type Allocation } from '../structs/alloc.js';
import {
  DeploymentDescription,
  groupStrategy,
  isDeploymentActive,
  newDeployment,
  newDeploymentState,
  runningDescription,
  type Deployment,
  type DeploymentStatusUpdate,
} from '../structs/deployment.js';
import type { Job, TaskGroup } from '../structs/job.js';
import { rescheduleDecision } from './reschedule.js';

export interface Placement {
  tg: TaskGroup;
  name: string;
  /** The allocation this one replaces (a destructive update, a lost or a failed one), if any. */
  previous: Allocation | null;
  /** Set when `previous` failed and is rescheduled by its policy: the delay that was applied. */
  rescheduleDelay?: number;
  /** A canary of the new version, placed beside the old allocations until the deployment is promoted. */
  canary?: boolean;
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
  /** The job's latest deployment, if it has one. */
  deployment?: Deployment | null;
  /** IDs for a deployment this reconcile creates (injected: the scheduler stays deterministic). */
  newId?: () => string;
  /** Priority of the evaluation, recorded on a deployment it creates. */
  evalPriority?: number;
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
  /** The deployment the job's placements belong to now (the existing one, or one created here). */
  deployment: Deployment | null;
  /** Set when this reconcile created `deployment`: the plan must commit it. */
  createdDeployment: boolean;
  /** Status changes of existing deployments (cancelled by a newer version or a stopped job). */
  deploymentUpdates: DeploymentStatusUpdate[];
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
  const out: Reconciled = { place: [], stop: [], inplace: [], later: [], deferred: {}, deployment: null, createdDeployment: false, deploymentUpdates: [] };
  const lost = new Set<string>();
  for (const a of allAllocs) {
    if (a.DesiredStatus === 'run' && !isClientTerminal(a.ClientStatus) && onDownNode(a)) {
      lost.add(a.ID);
      out.stop.push({ alloc: a, description: ALLOC_LOST, lost: true });
    }
  }
  const allocs = allAllocs.filter((a) => !lost.has(a.ID));
  const running = allocs.filter((a) => a.DesiredStatus === 'run' && !isClientTerminal(a.ClientStatus));
  const existing = opts.deployment ?? null;
  if (job === null || job.Stop) {
    if (existing !== null && isDeploymentActive(existing)) out.deploymentUpdates.push(cancel(existing, DeploymentDescription.StoppedJob));
    for (const a of running) out.stop.push({ alloc: a, description: ALLOC_JOB_STOPPED });
    return out;
  }
  let deployment = currentDeployment(job, existing, out.deploymentUpdates);
  // Nomad's reconciler: a paused (or pending) deployment holds its rollout, a failed one ends it.
  const held = deployment !== null && (deployment.Status === 'paused' || deployment.Status === 'pending' || deployment.Status === 'failed');
  const groups = new Map(job.TaskGroups.map((tg) => [tg.Name, tg]));
  for (const a of running) {
    if (!groups.has(a.TaskGroup)) out.stop.push({ alloc: a, description: ALLOC_NOT_NEEDED });
  }
  for (const tg of job.TaskGroups) {
    const strategy = groupStrategy(job, tg);
    const dstate = deployment?.TaskGroups[tg.Name];
    const promoted = dstate?.Promoted === true;
    const canaryIds = new Set(dstate?.PlacedCanaries ?? []);
    const isCanary = (a: Allocation): boolean => deployment !== null && a.DeploymentID === deployment.ID && (canaryIds.has(a.ID) || a.DeploymentStatus?.Canary === true);
    const counted = allocs.filter((a) => a.TaskGroup === tg.Name && counts(job, a));
    // Unpromoted canaries run beside the allocations they will replace and hold no index of their own.
    const canaries = promoted ? [] : counted.filter(isCanary);
    // After promotion a canary takes over its index: the current version wins a duplicate, the old one stops.
    const live = counted
      .filter((a) => promoted || !isCanary(a))
      .sort((x, y) => allocIndex(x.Name) - allocIndex(y.Name) || Number(y.Job.Version === job.Version) - Number(x.Job.Version === job.Version) || x.CreateIndex - y.CreateIndex);
    // A failed deployment's canaries are not promoted any more: they go (as in Nomad).
    if (deployment?.Status === 'failed') for (const c of canaries) out.stop.push({ alloc: c, description: ALLOC_NOT_NEEDED });
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
    const destructive = [...byIndex.values()].filter((a) => !isClientTerminal(a.ClientStatus) && a.Job.JobModifyIndex !== job.JobModifyIndex && groupChanged(a, tg));
    // Canaries first (Nomad's update { canary }): until promoted, the old version keeps running.
    const canarying = strategy !== undefined && strategy.Canary > 0 && !promoted && destructive.length > 0;
    let updateBudget = canarying || (held && strategy !== undefined) ? 0 : rollingUpdateBudget(job, tg, allocs);
    let inplaceHere = 0;
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
        inplaceHere++;
      }
    }
    if (strategy === undefined || tg.Count === 0) continue;
    // Nomad creates a deployment for a group that runs a version it never ran, or whose spec changes.
    const hadRunning = allAllocs.some((a) => a.TaskGroup === tg.Name && a.Job.Version === job.Version && a.Job.CreateIndex === job.CreateIndex);
    const updatingSpec = destructive.length > 0 || inplaceHere > 0;
    if (dstate === undefined && (!hadRunning || updatingSpec) && (deployment === null || out.createdDeployment)) {
      if (deployment === null) {
        deployment = newDeployment(job, opts.evalPriority ?? job.Priority, (opts.newId ?? (() => `${opts.evalId}-deployment`))(), opts.now);
        out.createdDeployment = true;
      }
      const state = newDeploymentState(tg, strategy);
      if (canarying) state.DesiredCanaries = strategy.Canary;
      deployment.TaskGroups[tg.Name] = state;
    }
    if (canarying && !held && deployment !== null) {
      // Canaries take the names of allocations they will replace (Nomad's NextCanaries).
      const taken = new Set(canaries.map((c) => c.Name));
      const names = destructive.map((a) => a.Name).filter((n) => !taken.has(n));
      for (let k = canaries.length; k < strategy.Canary && names.length > 0; k++) out.place.push({ tg, name: names.shift()!, previous: null, canary: true });
    }
  }
  if (deployment !== null && out.createdDeployment) deployment.StatusDescription = runningDescription(deployment);
  out.deployment = deployment;
  return out;
}

function cancel(d: Deployment, description: string): DeploymentStatusUpdate {
  return { DeploymentID: d.ID, Status: 'cancelled', StatusDescription: description };
}

/**
 * The deployment that still governs the job (Nomad's cancelUnneededDeployments): one made for
 * an older version (or an earlier incarnation of the job) is cancelled if still active, and a
 * successful one is done; either way the job has no current deployment.
 */
function currentDeployment(job: Job, d: Deployment | null, updates: DeploymentStatusUpdate[]): Deployment | null {
  if (d === null) return null;
  if (d.JobCreateIndex !== job.CreateIndex || d.JobVersion !== job.Version) {
    if (isDeploymentActive(d)) updates.push(cancel(d, DeploymentDescription.NewerJob));
    return null;
  }
  if (d.Status === 'successful' || d.Status === 'cancelled') return null;
  // A copy: the reconciler may add groups to it, and the snapshot's object must stay as read.
  return { ...d, TaskGroups: { ...d.TaskGroups } };
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
