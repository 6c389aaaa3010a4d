/**
 * The wire shapes of POST /v1/job/:id/plan and GET /v1/job/:id/versions?diffs=true, as
 * Nomad's API documents them (api.JobPlanResponse, api.JobDiff). They live in api/ rather
 * than structs/ because only clients read them: the server builds them at the edge.
 */
import type { AllocMetric } from '../structs/eval.js';
import type { Job } from '../structs/job.js';

/** "Added", "Deleted", "Edited" or "None", as Nomad spells the diff types. */
export type DiffType = 'Added' | 'Deleted' | 'Edited' | 'None';

export interface FieldDiff {
  Type: DiffType;
  Name: string;
  Old: string;
  New: string;
  /** Why the change matters, e.g. "forces create/destroy update". */
  Annotations: string[] | null;
}

export interface ObjectDiff {
  Type: DiffType;
  Name: string;
  Fields: FieldDiff[] | null;
  Objects: ObjectDiff[] | null;
}

export interface TaskDiff {
  Type: DiffType;
  Name: string;
  Fields: FieldDiff[] | null;
  Objects: ObjectDiff[] | null;
  Annotations: string[] | null;
}

export interface TaskGroupDiff {
  Type: DiffType;
  Name: string;
  Fields: FieldDiff[] | null;
  Objects: ObjectDiff[] | null;
  Tasks: TaskDiff[] | null;
  /** Count per update kind ("create", "destroy", "ignore", "in-place update", ...). */
  Updates: Record<string, number> | null;
}

export interface JobDiff {
  Type: DiffType;
  ID: string;
  Fields: FieldDiff[] | null;
  Objects: ObjectDiff[] | null;
  TaskGroups: TaskGroupDiff[] | null;
}

/** What the scheduler's dry run would do to one task group. */
export interface DesiredUpdates {
  Ignore: number;
  Place: number;
  Migrate: number;
  Stop: number;
  InPlaceUpdate: number;
  DestructiveUpdate: number;
  Canary: number;
  Preemptions: number;
}

export interface PlanAnnotations {
  DesiredTGUpdates: Record<string, DesiredUpdates> | null;
  PreemptedAllocs?: unknown[] | null;
}

export interface JobPlanRequest {
  Job: Job;
  /** Ask the server for the diff against the running version. */
  Diff: boolean;
  PolicyOverride?: boolean;
}

export interface JobPlanResponse {
  JobModifyIndex: number;
  CreatedEvals?: unknown[] | null;
  Diff: JobDiff | null;
  Annotations: PlanAnnotations | null;
  FailedTGAllocs: Record<string, AllocMetric> | null;
  /** Unix nanoseconds or an RFC 3339 string, depending on the server; 0/"" when not periodic. */
  NextPeriodicLaunch?: number | string | null;
  Warnings: string;
  Index?: number;
}

export interface JobVersionsResponse {
  Versions: Job[];
  /** Diffs[i] is Versions[i] against Versions[i+1]; null unless asked for with `diffs=true`. */
  Diffs: JobDiff[] | null;
}

/** Nomad's JobEvaluateRequest / JobRevertRequest bodies. */
export interface JobEvaluateRequest {
  JobID: string;
  EvalOptions: { ForceReschedule: boolean };
}

export interface JobRevertRequest {
  JobID: string;
  JobVersion: number;
  /** Only revert if the current version is this one (optimistic concurrency). */
  EnforcePriorVersion?: number;
}

export interface JobEvaluateResponse {
  EvalID: string;
  EvalCreateIndex: number;
  JobModifyIndex: number;
  Index?: number;
}
