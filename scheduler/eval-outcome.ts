/**
 * How a scheduler ends an evaluation (Nomad's shared tail of every scheduler): mark it complete
 * with its placement failures and queued counts and, when something could not be placed, leave
 * a blocked evaluation that the servers retry when capacity appears.
 */
import type { AllocMetric, Evaluation } from '../structs/eval.js';
import type { Planner, SchedulerContext } from './scheduler-api.js';

export interface EvalOutcome {
  failed: Record<string, AllocMetric>;
  queued: Record<string, number>;
  /** Node classes that could (true) or could not (false) take the blocked placements. */
  classEligibility: Record<string, boolean> | null;
  escapedComputedClass: boolean;
  /** False when the evaluation itself is already the blocked one being retried. */
  createBlocked: boolean;
}

/** The evaluation marked complete, with what could not be placed and which blocked evaluation follows it. */
export function completedEval(ev: Evaluation, out: Pick<EvalOutcome, 'failed' | 'queued'>, blockedId: string, now: number): Evaluation {
  const hasFailures = Object.keys(out.failed).length > 0;
  return {
    ...ev,
    Status: 'complete',
    StatusDescription: '',
    FailedTGAllocs: hasFailures ? out.failed : null,
    QueuedAllocations: out.queued,
    BlockedEval: blockedId,
    ModifyTime: now,
  };
}

export async function completeEval(ev: Evaluation, out: EvalOutcome, planner: Planner, ctx: SchedulerContext): Promise<void> {
  const hasFailures = Object.keys(out.failed).length > 0;
  let blockedId = '';
  if (hasFailures && out.createBlocked) {
    blockedId = ctx.newId();
    const now = ctx.now();
    await planner.createEval({
      ...ev,
      ID: blockedId,
      Status: 'blocked',
      StatusDescription: 'created to place remaining allocations',
      TriggeredBy: 'queued-allocs',
      PreviousEval: ev.ID,
      BlockedEval: '',
      NextEval: '',
      FailedTGAllocs: null,
      QueuedAllocations: out.queued,
      // What the blocked-evals tracker needs to wake this up only for nodes of a class that could help.
      ClassEligibility: out.classEligibility,
      EscapedComputedClass: out.escapedComputedClass,
      CreateTime: now,
      ModifyTime: now,
    });
  }
  await planner.updateEval(completedEval(ev, out, blockedId, ctx.now()));
}
