/** How a placement stack is set up for an evaluation, and what one selection may add. */

export type SchedulerAlgorithm = 'binpack' | 'spread';

export interface StackOptions {
  /** Batch jobs look at 2 candidates; service jobs at max(2, ceil(log2 n)) (Nomad's stack.go). */
  batch: boolean;
  /** Look at every feasible node (system jobs). */
  exhaustive?: boolean;
  algorithm?: SchedulerAlgorithm;
}

export interface SelectOptions {
  /** Nodes that a failed predecessor ran on: scored down (Nomad's NodeReschedulingPenaltyIterator). */
  penaltyNodes?: ReadonlySet<string>;
}
