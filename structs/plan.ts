/**
 * A plan is what a scheduler wants to change (optimistically, against a snapshot); the
 * leader's plan applier checks it against the latest state and commits what still fits.
 */
import type { Allocation } from './alloc.js';
import type { Deployment, DeploymentStatusUpdate } from './deployment.js';
import type { Evaluation } from './eval.js';
import type { Job } from './job.js';

export interface Plan {
  EvalID: string;
  Priority: number;
  AllAtOnce: boolean;
  Job: Job | null;
  /** Allocations to stop or evict, by node ID (only the changed fields matter). */
  NodeUpdate: Record<string, Allocation[]>;
  /** Allocations to place, by node ID. */
  NodeAllocation: Record<string, Allocation[]>;
  /**
   * Allocations evicted to make room for this plan's placements, by node ID (Nomad's
   * Plan.NodePreemptions): DesiredStatus "evict", DesiredDescription "Preempted by alloc ID …".
   * They count as gone when the node's fit is checked, and apply only with that node's placements.
   */
  NodePreemptions: Record<string, Allocation[]>;
  /** The state index the scheduler planned against. */
  SnapshotIndex: number;
  /** A deployment this plan creates (a new version of the job); committed with the allocations. */
  Deployment: Deployment | null;
  /** Status changes of existing deployments (cancelling one an older version or a stopped job left). */
  DeploymentUpdates: DeploymentStatusUpdate[];
  /**
   * The evaluation as it ends if every placement of the plan is accepted. The plan applier
   * commits it in the plan's own Raft entry when that is so, which spares the evaluation a
   * second commit (and its worker a second wait for the disk); otherwise it is dropped and
   * the scheduler updates the evaluation itself, as before.
   */
  EvalUpdate?: Evaluation | null;
}

export interface PlanResult {
  NodeUpdate: Record<string, Allocation[]>;
  NodeAllocation: Record<string, Allocation[]>;
  /** The preemptions committed (those of nodes whose placements were accepted). */
  NodePreemptions?: Record<string, Allocation[]>;
  /** Non-zero when part of the plan was refused: the scheduler must refresh to at least this index. */
  RefreshIndex: number;
  /** Raft index at which the plan's allocations were committed. */
  AllocIndex: number;
  /** The plan's EvalUpdate was committed with it. */
  EvalUpdated?: boolean;
}

/** What the scheduler hands back through the Planner for eval bookkeeping. */
export interface EvalUpdate {
  evals: Evaluation[];
}

export function emptyPlan(evalId: string, priority: number, job: Job | null, snapshotIndex: number): Plan {
  return {
    EvalID: evalId,
    Priority: priority,
    AllAtOnce: job?.AllAtOnce ?? false,
    Job: job,
    NodeUpdate: {},
    NodeAllocation: {},
    NodePreemptions: {},
    SnapshotIndex: snapshotIndex,
    Deployment: null,
    DeploymentUpdates: [],
  };
}

/** Nothing to commit (Nomad's Plan.IsNoOp): no allocation changes and no deployment changes. */
export function isPlanEmpty(p: Pick<Plan, 'NodeUpdate' | 'NodeAllocation'> & Partial<Pick<Plan, 'Deployment' | 'DeploymentUpdates'>>): boolean {
  return (
    Object.keys(p.NodeUpdate).length === 0 &&
    Object.keys(p.NodeAllocation).length === 0 &&
    (p.Deployment ?? null) === null &&
    (p.DeploymentUpdates ?? []).length === 0
  );
}
