/**
 * Deployments: how a job moves from one version to the next (Nomad's structs.Deployment).
 * The scheduler creates one per new version of a service job with an update strategy; the
 * leader's deployment watcher follows the health of the allocations it placed and decides
 * when it succeeded or failed. Shapes and strings are Nomad's API JSON, so `nomad deployment
 * status` output and API clients work unchanged.
 */
import type { DurationNs, Job, TaskGroup, UpdateStrategy } from './job.js';

export const DeploymentStatus = {
  Running: 'running',
  Paused: 'paused',
  Failed: 'failed',
  Successful: 'successful',
  Cancelled: 'cancelled',
  Pending: 'pending',
  Blocked: 'blocked',
  Unblocking: 'unblocking',
} as const;
export type DeploymentStatusName = (typeof DeploymentStatus)[keyof typeof DeploymentStatus];

/** Nomad's DeploymentStatusDescription* strings, verbatim: tools match on them. */
export const DeploymentDescription = {
  Running: 'Deployment is running',
  RunningNeedsPromotion: 'Deployment is running but requires manual promotion',
  RunningAutoPromotion: 'Deployment is running pending automatic promotion',
  Paused: 'Deployment is paused',
  Successful: 'Deployment completed successfully',
  StoppedJob: 'Cancelled because job is stopped',
  NewerJob: 'Cancelled due to newer version of job',
  FailedAllocations: 'Failed due to unhealthy allocations',
  ProgressDeadline: 'Failed due to progress deadline',
  FailedByUser: 'Deployment marked as failed',
} as const;

export function rollbackDescription(base: string, version: number): string {
  return `${base} - rolling back to job version ${version}`;
}

export function rollbackNoopDescription(base: string, version: number): string {
  return `${base} - not rolling back to stable job version ${version} as current job has same specification`;
}

export function noRollbackTargetDescription(base: string): string {
  return `${base} - no stable job version to auto revert to`;
}

/** Nomad's zero time.Time as its JSON encodes it: "no deadline yet". */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** One task group's progress within a deployment (Nomad's DeploymentState). */
export interface DeploymentState {
  AutoRevert: boolean;
  AutoPromote: boolean;
  ProgressDeadline: DurationNs;
  /** RFC 3339; ZERO_TIME until the first allocation is placed. */
  RequireProgressBy: string;
  Promoted: boolean;
  PlacedCanaries: string[];
  DesiredCanaries: number;
  DesiredTotal: number;
  PlacedAllocs: number;
  HealthyAllocs: number;
  UnhealthyAllocs: number;
}

export interface Deployment {
  ID: string;
  Namespace: string;
  JobID: string;
  JobVersion: number;
  JobModifyIndex: number;
  JobSpecModifyIndex: number;
  JobCreateIndex: number;
  IsMultiregion: boolean;
  TaskGroups: Record<string, DeploymentState>;
  Status: DeploymentStatusName;
  StatusDescription: string;
  EvalPriority: number;
  CreateIndex: number;
  ModifyIndex: number;
  /** Unix nanoseconds. */
  CreateTime: number;
  ModifyTime: number;
}

/** A change of a deployment's status (Nomad's DeploymentStatusUpdate). */
export interface DeploymentStatusUpdate {
  DeploymentID: string;
  Status: DeploymentStatusName;
  StatusDescription: string;
}

/** Nomad's DeploymentUpdateResponse, the answer of every deployment write. */
export interface DeploymentUpdateResponse {
  EvalID: string;
  EvalCreateIndex: number;
  DeploymentModifyIndex: number;
  /** Set when the deployment's failure reverted the job. */
  RevertedJobVersion?: number;
  Index: number;
}

export function newDeployment(job: Job, evalPriority: number, id: string, now: number): Deployment {
  return {
    ID: id,
    Namespace: job.Namespace,
    JobID: job.ID,
    JobVersion: job.Version,
    JobModifyIndex: job.ModifyIndex,
    JobSpecModifyIndex: job.JobModifyIndex,
    JobCreateIndex: job.CreateIndex,
    IsMultiregion: false,
    TaskGroups: {},
    Status: DeploymentStatus.Running,
    StatusDescription: DeploymentDescription.Running,
    EvalPriority: evalPriority,
    CreateIndex: 0,
    ModifyIndex: 0,
    CreateTime: now,
    ModifyTime: now,
  };
}

export function newDeploymentState(tg: TaskGroup, strategy: UpdateStrategy): DeploymentState {
  return {
    AutoRevert: strategy.AutoRevert,
    AutoPromote: strategy.AutoPromote,
    ProgressDeadline: strategy.ProgressDeadline,
    RequireProgressBy: ZERO_TIME,
    Promoted: false,
    PlacedCanaries: [],
    DesiredCanaries: 0,
    DesiredTotal: tg.Count,
    PlacedAllocs: 0,
    HealthyAllocs: 0,
    UnhealthyAllocs: 0,
  };
}

/** Running, paused and the multiregion waits still move (Nomad's Deployment.Active). */
export function isDeploymentActive(d: Pick<Deployment, 'Status'>): boolean {
  switch (d.Status) {
    case 'running':
    case 'paused':
    case 'pending':
    case 'blocked':
    case 'unblocking':
      return true;
    case 'failed':
    case 'successful':
    case 'cancelled':
      return false;
  }
}

/** Some group still waits for its canaries to be promoted (Nomad's RequiresPromotion). */
export function requiresPromotion(d: Deployment): boolean {
  if (d.Status !== 'running') return false;
  return Object.values(d.TaskGroups).some((g) => g.DesiredCanaries > 0 && !g.Promoted);
}

/** Every group with canaries promotes itself (Nomad's HasAutoPromote). */
export function hasAutoPromote(d: Deployment): boolean {
  const groups = Object.values(d.TaskGroups);
  if (d.Status !== 'running' || groups.length === 0) return false;
  return groups.every((g) => g.DesiredCanaries === 0 || g.AutoPromote);
}

/** What the deployment says while it runs: whether it waits for a promotion, and whose. */
export function runningDescription(d: Deployment): string {
  if (!requiresPromotion(d)) return DeploymentDescription.Running;
  return hasAutoPromote(d) ? DeploymentDescription.RunningAutoPromotion : DeploymentDescription.RunningNeedsPromotion;
}

/** The update strategy that governs a group's rollout (the group's own, else the job's). */
export function groupStrategy(job: Job, tg: TaskGroup): UpdateStrategy | undefined {
  if (job.Type !== 'service') return undefined;
  const s = tg.Update ?? job.Update;
  // Nomad's UpdateStrategy.IsEmpty: max_parallel 0 turns deployments off for the group.
  return s === undefined || s.MaxParallel <= 0 ? undefined : s;
}

/** Unix ns → RFC 3339 (millisecond precision: what a JS Date holds). */
export function nsToRfc3339(ns: number): string {
  return new Date(Math.floor(ns / 1e6)).toISOString();
}

/** RFC 3339 → unix ns; ZERO_TIME (and anything unparsable) → 0. */
export function rfc3339ToNs(s: string): number {
  if (s === ZERO_TIME || s === '') return 0;
  const ms = Date.parse(s);
  return Number.isFinite(ms) && ms > 0 ? ms * 1e6 : 0;
}
