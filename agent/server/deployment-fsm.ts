/**
 * How the FSM changes deployments. Plans create them and cancel old ones; the watcher and the
 * API change their status, promote their canaries and set allocation health. A deployment's
 * counts (placed, healthy, unhealthy, placed canaries) and its progress deadline are derived
 * here, in the same transaction as the allocation writes they follow from, as Nomad's state
 * store does (updateDeploymentWithAlloc): they can never disagree with the allocations.
 */
import type { Allocation } from '../../structs/alloc.js';
import {
  DeploymentDescription,
  isDeploymentActive,
  nsToRfc3339,
  rfc3339ToNs,
  runningDescription,
  ZERO_TIME,
  type Deployment,
  type DeploymentState,
  type DeploymentStatusUpdate,
} from '../../structs/deployment.js';
import type { StateWriter } from './state/state-store.js';

/** Store a deployment a plan created, stamped with the entry's index. */
export function createDeployment(w: StateWriter, d: Deployment, now: number): void {
  const prev = w.deploymentById(d.ID);
  w.putDeployment({ ...d, CreateIndex: prev?.CreateIndex ?? w.index, ModifyIndex: w.index, CreateTime: prev?.CreateTime ?? now, ModifyTime: now });
}

/**
 * Apply status changes. A terminal deployment keeps its outcome (a late cancel or a second
 * failure does not rewrite history); a successful one marks its job version stable.
 */
export function applyDeploymentStatusUpdates(w: StateWriter, updates: readonly DeploymentStatusUpdate[], now: number): void {
  for (const u of updates) {
    const d = w.deploymentById(u.DeploymentID);
    if (!d || !isDeploymentActive(d)) continue;
    // A resumed deployment gets its progress deadlines afresh: time spent paused is not lack of progress.
    const taskGroups = d.Status === 'paused' && u.Status === 'running' ? restartDeadlines(d.TaskGroups, now) : d.TaskGroups;
    w.putDeployment({ ...d, TaskGroups: taskGroups, Status: u.Status, StatusDescription: u.StatusDescription, ModifyIndex: w.index, ModifyTime: now });
    if (u.Status === 'successful') markStable(w, d);
  }
}

function restartDeadlines(groups: Record<string, DeploymentState>, now: number): Record<string, DeploymentState> {
  const out: Record<string, DeploymentState> = {};
  for (const [name, g] of Object.entries(groups)) {
    const started = rfc3339ToNs(g.RequireProgressBy) > 0;
    out[name] = started && g.ProgressDeadline > 0 ? { ...g, RequireProgressBy: nsToRfc3339(now + g.ProgressDeadline) } : g;
  }
  return out;
}

/** Nomad's updateJobStability: the version a deployment brought in proved itself. */
function markStable(w: StateWriter, d: Deployment): void {
  const version = w.jobVersion(d.Namespace, d.JobID, d.JobVersion);
  if (!version || version.CreateIndex !== d.JobCreateIndex || version.Stable) return;
  const current = w.jobById(d.Namespace, d.JobID);
  if (current && current.Version === d.JobVersion) w.putJob({ ...current, Stable: true });
  else w.putJobVersion({ ...version, Stable: true });
}

/** Promote the canaries of `groups` (every group with canaries when `all`). */
export function promoteDeployment(w: StateWriter, id: string, all: boolean, groups: readonly string[], now: number): void {
  const d = w.deploymentById(id);
  if (!d || !isDeploymentActive(d)) return;
  const taskGroups: Record<string, DeploymentState> = {};
  for (const [name, g] of Object.entries(d.TaskGroups)) {
    taskGroups[name] = (all || groups.includes(name)) && g.DesiredCanaries > 0 ? { ...g, Promoted: true } : g;
  }
  const next: Deployment = { ...d, TaskGroups: taskGroups, ModifyIndex: w.index, ModifyTime: now };
  if (next.Status === 'running') next.StatusDescription = runningDescription(next);
  w.putDeployment(next);
}

/**
 * An operator's health verdicts for a deployment's allocations (`update { health_check =
 * "manual" }`). Allocations of other deployments are left alone.
 */
export function setAllocHealth(w: StateWriter, deploymentId: string, healthy: readonly string[], unhealthy: readonly string[], now: number): void {
  const verdicts = new Map<string, boolean>([...healthy.map((id) => [id, true] as const), ...unhealthy.map((id) => [id, false] as const)]);
  for (const [id, ok] of verdicts) {
    const a = w.allocById(id);
    if (!a || a.DeploymentID !== deploymentId) continue;
    const next: Allocation = {
      ...a,
      DeploymentStatus: { Healthy: ok, Timestamp: nsToRfc3339(now), Canary: a.DeploymentStatus?.Canary === true, ModifyIndex: w.index },
      ModifyIndex: w.index,
      ModifyTime: now,
    };
    w.putAlloc(next);
  }
  refreshDeploymentProgress(w, [deploymentId], now);
}

/**
 * Re-derive the counts of deployments whose allocations changed: placed, healthy and unhealthy
 * allocations, the canaries placed (never forgotten, even when a client's verdict drops the
 * canary flag), and the progress deadline, which starts with the first placement and moves on
 * with each healthy allocation (Nomad: RequireProgressBy = healthy time + progress_deadline).
 */
export function refreshDeploymentProgress(w: StateWriter, ids: Iterable<string>, now: number): void {
  for (const id of new Set(ids)) {
    if (id === '') continue;
    const d = w.deploymentById(id);
    if (!d || !isDeploymentActive(d)) continue;
    const mine = w.allocsByJob(d.Namespace, d.JobID).filter((a) => a.DeploymentID === id);
    const taskGroups: Record<string, DeploymentState> = {};
    for (const [name, g] of Object.entries(d.TaskGroups)) taskGroups[name] = progressOf(g, mine.filter((a) => a.TaskGroup === name), now);
    if (JSON.stringify(taskGroups) === JSON.stringify(d.TaskGroups)) continue;
    w.putDeployment({ ...d, TaskGroups: taskGroups, ModifyIndex: w.index, ModifyTime: now });
  }
}

function progressOf(g: DeploymentState, allocs: Allocation[], now: number): DeploymentState {
  const canaries = [...g.PlacedCanaries];
  for (const a of allocs) if (a.DeploymentStatus?.Canary === true && !canaries.includes(a.ID)) canaries.push(a.ID);
  let requireBy = rfc3339ToNs(g.RequireProgressBy);
  if (g.ProgressDeadline > 0) {
    if (requireBy === 0 && allocs.length > 0) requireBy = now + g.ProgressDeadline;
    for (const a of allocs) {
      if (a.DeploymentStatus?.Healthy !== true) continue;
      const at = rfc3339ToNs(a.DeploymentStatus.Timestamp) || now;
      requireBy = Math.max(requireBy, at + g.ProgressDeadline);
    }
  }
  return {
    ...g,
    PlacedCanaries: canaries,
    PlacedAllocs: allocs.length,
    HealthyAllocs: allocs.filter((a) => a.DeploymentStatus?.Healthy === true).length,
    UnhealthyAllocs: allocs.filter((a) => a.DeploymentStatus?.Healthy === false).length,
    RequireProgressBy: requireBy === 0 ? ZERO_TIME : nsToRfc3339(requireBy),
  };
}

/** The description a paused deployment takes when it resumes. */
export function resumedDescription(d: Deployment): string {
  return d.Status === 'paused' ? runningDescription({ ...d, Status: 'running' }) : DeploymentDescription.Running;
}
