/**
 * What a scheduler sees and how it acts. A scheduler reads the cluster only through a
 * read-only `SchedulerState` snapshot and changes it only by submitting plans through a
 * `Planner`; it never touches LMDB, Raft or the network. Time, randomness and IDs are
 * injected, so a run is deterministic for a given seed.
 */
import type { Allocation } from '../structs/alloc.js';
import type { Deployment } from '../structs/deployment.js';
import type { Evaluation } from '../structs/eval.js';
import type { Job } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { Plan, PlanResult } from '../structs/plan.js';

export interface SchedulerState {
  latestIndex(): number;
  jobById(namespace: string, id: string): Job | null;
  nodes(): readonly Node[];
  nodeById(id: string): Node | null;
  allocsByJob(namespace: string, jobId: string): Allocation[];
  /** May be shared (and frozen) by the state: never modify it. */
  allocsByNode(nodeId: string): readonly Allocation[];
  /** The job's most recent deployment (by creation); absent or null when it has none. */
  latestDeploymentByJob?(namespace: string, jobId: string): Deployment | null;
  /** The operator's scheduler configuration; Nomad's defaults when absent (binpack, preemption for system jobs). */
  schedulerConfig?(): SchedulerConfigView;
}

/** The parts of the operator's scheduler configuration (Nomad's SchedulerConfiguration) a scheduler reads. */
export interface SchedulerConfigView {
  SchedulerAlgorithm: 'binpack' | 'spread';
  PreemptionConfig?: {
    SystemSchedulerEnabled?: boolean;
    SysBatchSchedulerEnabled?: boolean;
    BatchSchedulerEnabled?: boolean;
    ServiceSchedulerEnabled?: boolean;
  };
}

export interface PlanSubmission {
  result: PlanResult;
  /** A fresher snapshot when the plan was (partly) refused and the scheduler must retry. */
  refreshedState: SchedulerState | null;
}

export interface Planner {
  submitPlan(plan: Plan): Promise<PlanSubmission>;
  updateEval(ev: Evaluation): Promise<void>;
  createEval(ev: Evaluation): Promise<void>;
}

export interface SchedulerContext {
  /** Unix nanoseconds. */
  now(): number;
  /** Uniform in [0, 1), seeded. */
  random(): number;
  newId(): string;
}

export interface Scheduler {
  process(ev: Evaluation): Promise<void>;
}

/** Nomad's limit on plan retries before an evaluation fails (structs.go maxServiceScheduleAttempts). */
export const MAX_SCHEDULE_ATTEMPTS = 5;
