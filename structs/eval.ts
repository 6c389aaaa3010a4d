/**
 * Evaluations (a request to reconcile a job with the cluster) and the placement metrics the
 * scheduler records, in Nomad's API shape.
 */
import type { JobType } from './job.js';

export type EvalStatus = 'pending' | 'complete' | 'failed' | 'blocked' | 'canceled';

export type EvalTrigger =
  | 'job-register'
  | 'job-deregister'
  | 'periodic-job'
  | 'node-drain'
  | 'node-update'
  | 'alloc-stop'
  | 'scheduled'
  | 'rolling-update'
  | 'deployment-watcher'
  | 'failed-follow-up'
  | 'max-plan-attempts'
  | 'alloc-failure'
  | 'queued-allocs'
  | 'preemption'
  | 'job-scaling';

/** Why placement failed (or how it went), per task group. Nomad's AllocMetric. */
export interface AllocMetric {
  NodesEvaluated: number;
  NodesFiltered: number;
  NodesInPool: number;
  NodesAvailable: Record<string, number>;
  ClassFiltered: Record<string, number>;
  ConstraintFiltered: Record<string, number>;
  NodesExhausted: number;
  ClassExhausted: Record<string, number>;
  DimensionExhausted: Record<string, number>;
  QuotaExhausted: string[];
  ScoreMetaData: Array<{ NodeID: string; Scores: Record<string, number>; NormScore: number }>;
  /** Nanoseconds spent placing. */
  AllocationTime: number;
  CoalescedFailures: number;
}

export interface Evaluation {
  ID: string;
  Namespace: string;
  Priority: number;
  Type: JobType | '_core';
  TriggeredBy: EvalTrigger;
  JobID: string;
  JobModifyIndex: number;
  NodeID: string;
  NodeModifyIndex: number;
  DeploymentID: string;
  Status: EvalStatus;
  StatusDescription: string;
  /** Nanoseconds to wait before scheduling. */
  Wait: number;
  /** Unix nanoseconds; 0 when not delayed. */
  WaitUntil: number;
  NextEval: string;
  PreviousEval: string;
  BlockedEval: string;
  FailedTGAllocs: Record<string, AllocMetric> | null;
  ClassEligibility: Record<string, boolean> | null;
  EscapedComputedClass: boolean;
  QueuedAllocations: Record<string, number>;
  SnapshotIndex: number;
  CreateIndex: number;
  ModifyIndex: number;
  CreateTime: number;
  ModifyTime: number;
}

export function newAllocMetric(): AllocMetric {
  return {
    NodesEvaluated: 0,
    NodesFiltered: 0,
    NodesInPool: 0,
    NodesAvailable: {},
    ClassFiltered: {},
    ConstraintFiltered: {},
    NodesExhausted: 0,
    ClassExhausted: {},
    DimensionExhausted: {},
    QuotaExhausted: [],
    ScoreMetaData: [],
    AllocationTime: 0,
    CoalescedFailures: 0,
  };
}

export function isEvalTerminal(s: EvalStatus): boolean {
  return s === 'complete' || s === 'failed' || s === 'canceled';
}
