/**
 * The service/batch scheduler: reconcile the job against its allocations, pick a node for
 * each placement (feasibility, then bin packing), submit the plan, retry on a refused plan with
 * fresher state, and record why anything could not be placed. Placements that fail leave a
 * blocked evaluation behind, which the servers unblock when capacity appears.
 */
import type { Allocation } from '../structs/alloc.js';
import { newAllocMetric, type AllocMetric, type Evaluation } from '../structs/eval.js';
import type { Job } from '../structs/job.js';
import { emptyPlan, isPlanEmpty, type Plan } from '../structs/plan.js';
import { readyNodes } from './candidates.js';
import { groupEscapesClass } from './node-class.js';
import { PlacementStack, type RankedOption } from './placement-stack.js';
import { reconcile, type Placement, type RescheduleLater } from './reconcile.js';
import { FOLLOWUP_BATCH_WINDOW_NS, reschedulePolicy } from './reschedule.js';
import { completedEval, completeEval } from './eval-outcome.js';
import { MAX_SCHEDULE_ATTEMPTS, type Planner, type Scheduler, type SchedulerContext, type SchedulerState } from './scheduler-api.js';

interface Computed {
  failed: Record<string, AllocMetric>;
  queued: Record<string, number>;
  eligibility: Eligibility;
  followups: Evaluation[];
}

/** Nomad keeps this many past reschedule events for an unlimited policy (maxPastRescheduleEvents). */
const MAX_PAST_RESCHEDULE_EVENTS = 5;

interface Eligibility {
  classes: Record<string, boolean> | null;
  escaped: boolean;
}

export class GenericScheduler implements Scheduler {
  constructor(
    private state: SchedulerState,
    private readonly planner: Planner,
    private readonly ctx: SchedulerContext,
  ) {}

  async process(ev: Evaluation): Promise<void> {
    let failed: Record<string, AllocMetric> = {};
    let queued: Record<string, number> = {};
    let eligibility: Eligibility = { classes: null, escaped: false };
    let followups: Evaluation[] = [];
    let attempts = 0;
    for (;;) {
      attempts++;
      const started = this.ctx.now();
      const job = this.state.jobById(ev.Namespace, ev.JobID);
      const plan = emptyPlan(ev.ID, ev.Priority, job, this.state.latestIndex());
      ({ failed, queued, eligibility, followups } = this.computePlan(job, plan, ev));
      for (const m of Object.values(failed)) m.AllocationTime = this.ctx.now() - started;
      if (isPlanEmpty(plan)) break;
      // Everything placed and nothing to follow: the evaluation can end in the plan's commit.
      if (Object.keys(failed).length === 0 && followups.length === 0) plan.EvalUpdate = completedEval(ev, { failed, queued }, '', this.ctx.now());
      const { result, refreshedState } = await this.planner.submitPlan(plan);
      if (result.RefreshIndex === 0 && result.EvalUpdated === true) return;
      if (result.RefreshIndex === 0 || refreshedState === null) break;
      this.state = refreshedState;
      if (attempts >= MAX_SCHEDULE_ATTEMPTS) {
        await this.planner.updateEval({
          ...ev,
          Status: 'failed',
          StatusDescription: `maximum attempts reached (${MAX_SCHEDULE_ATTEMPTS})`,
          ModifyTime: this.ctx.now(),
        });
        return;
      }
    }
    // Delayed reschedules: the broker holds these until their WaitUntil.
    for (const f of followups) await this.planner.createEval(f);
    await completeEval(
      ev,
      { failed, queued, classEligibility: eligibility.classes, escapedComputedClass: eligibility.escaped, createBlocked: true },
      this.planner,
      this.ctx,
    );
  }

  /** Fill `plan`; returns per-group failure metrics and queued counts. */
  private computePlan(job: Job | null, plan: Plan, ev: Evaluation): Computed {
    const eligibility: Eligibility = { classes: null, escaped: false };
    const allocs = this.state.allocsByJob(ev.Namespace, ev.JobID);
    const r = reconcile(
      job,
      allocs,
      (a) => {
        const node = this.state.nodeById(a.NodeID);
        return node === null || node.Status === 'down';
      },
      {
        now: this.ctx.now(),
        evalId: ev.ID,
        deployment: this.state.latestDeploymentByJob?.(ev.Namespace, ev.JobID) ?? null,
        newId: () => this.ctx.newId(),
        evalPriority: ev.Priority,
      },
    );
    if (r.createdDeployment) plan.Deployment = r.deployment;
    plan.DeploymentUpdates.push(...r.deploymentUpdates);
    const deploymentId = r.deployment?.ID ?? '';
    const followups = job === null ? [] : this.followupEvals(job, r.later, plan, ev);
    const failed: Record<string, AllocMetric> = {};
    const queued: Record<string, number> = {};
    for (const tg of job?.TaskGroups ?? []) queued[tg.Name] = 0;

    for (const s of r.stop) {
      (plan.NodeUpdate[s.alloc.NodeID] ??= []).push({
        ...s.alloc,
        DesiredStatus: 'stop',
        DesiredDescription: s.description,
        ClientStatus: s.lost === true ? 'lost' : s.alloc.ClientStatus,
      });
    }
    if (job === null) return { failed, queued, eligibility, followups };
    for (const a of r.inplace) {
      // An allocation updated in place joins the new version's deployment, keeping its health:
      // its tasks did not restart (Nomad resets it and the client judges again; ours does not).
      (plan.NodeAllocation[a.NodeID] ??= []).push({ ...a, Job: job, DeploymentID: deploymentId || a.DeploymentID });
    }
    if (r.place.length === 0) return { failed, queued, eligibility, followups };

    const candidates = readyNodes(this.state, job, () => this.ctx.random());
    const stack = new PlacementStack(this.state, this.ctx, plan, job, candidates, { batch: job.Type === 'batch', algorithm: this.state.schedulerConfig?.().SchedulerAlgorithm ?? 'binpack' });
    for (const p of r.place) {
      // Once a group failed to place, its other placements would fail the same way: count them
      // without searching again (Nomad's computePlacements does the same).
      const already = failed[p.tg.Name];
      if (already) {
        already.CoalescedFailures++;
        queued[p.tg.Name] = (queued[p.tg.Name] ?? 0) + 1;
        continue;
      }
      const metric = newAllocMetric();
      metric.NodesInPool = candidates.inPool;
      metric.NodesAvailable = candidates.byDc;
      // Nomad's reschedule penalty: steer a rescheduled allocation away from every node it failed on.
      const penalty = p.previous !== null && p.rescheduleDelay !== undefined ? new Set([p.previous.NodeID, ...(p.previous.RescheduleTracker?.Events ?? []).map((e) => e.PrevNodeID)]) : undefined;
      const chosen = stack.select(p.tg, metric, penalty ? { penaltyNodes: penalty } : {});
      if (!chosen) {
        queued[p.tg.Name] = (queued[p.tg.Name] ?? 0) + 1;
        failed[p.tg.Name] = metric;
        continue;
      }
      const alloc = this.newAlloc(job, p, chosen, ev, metric, deploymentId);
      stack.place(alloc);
    }
    eligibility.classes = stack.classEligibility();
    eligibility.escaped = job.TaskGroups.some((tg) => groupEscapesClass(job, tg));
    return { failed, queued, eligibility, followups };
  }

  /**
   * One follow-up evaluation per window of reschedule times (Nomad batches them in 5 s windows),
   * and each waiting allocation records which evaluation will reschedule it.
   */
  private followupEvals(job: Job, later: RescheduleLater[], plan: Plan, ev: Evaluation): Evaluation[] {
    const out: Evaluation[] = [];
    let current: Evaluation | null = null;
    for (const l of [...later].sort((a, b) => a.at - b.at)) {
      if (current === null || l.at - current.WaitUntil > FOLLOWUP_BATCH_WINDOW_NS) {
        const now = this.ctx.now();
        current = {
          ...ev,
          ID: this.ctx.newId(),
          Status: 'pending',
          StatusDescription: 'created for delayed rescheduling',
          TriggeredBy: 'alloc-failure',
          Priority: job.Priority,
          JobModifyIndex: job.JobModifyIndex,
          WaitUntil: l.at,
          PreviousEval: ev.ID,
          NextEval: '',
          BlockedEval: '',
          FailedTGAllocs: null,
          QueuedAllocations: {},
          ClassEligibility: null,
          CreateTime: now,
          ModifyTime: now,
        };
        out.push(current);
      }
      (plan.NodeUpdate[l.alloc.NodeID] ??= []).push({ ...l.alloc, FollowupEvalID: current.ID });
    }
    return out;
  }

  /** The replacement's history: the predecessor's recent events plus this reschedule. */
  private tracker(job: Job, p: Placement, prev: Allocation, delay: number): Allocation['RescheduleTracker'] {
    const now = this.ctx.now();
    const policy = reschedulePolicy(job, p.tg);
    let events = prev.RescheduleTracker?.Events ?? [];
    if (policy?.Unlimited === true) events = events.slice(-(MAX_PAST_RESCHEDULE_EVENTS - 1));
    else if (policy !== undefined) events = events.filter((e) => now - e.RescheduleTime < policy.Interval);
    return { Events: [...events, { RescheduleTime: now, PrevAllocID: prev.ID, PrevNodeID: prev.NodeID, Delay: delay }] };
  }

  private newAlloc(job: Job, p: Placement, chosen: RankedOption, ev: Evaluation, metric: AllocMetric, deploymentId: string): Allocation {
    const now = this.ctx.now();
    const node = chosen.node;
    return {
      ID: this.ctx.newId(),
      Namespace: job.Namespace,
      EvalID: ev.ID,
      Name: p.name,
      NodeID: node.ID,
      NodeName: node.Name,
      JobID: job.ID,
      Job: job,
      TaskGroup: p.tg.Name,
      AllocatedResources: chosen.resources,
      Metrics: metric,
      DesiredStatus: 'run',
      DesiredDescription: '',
      DesiredTransition: {},
      ClientStatus: 'pending',
      ClientDescription: '',
      TaskStates: {},
      DeploymentID: deploymentId,
      // A canary says so from the start: the deployment counts it, and promotion looks for it.
      ...(p.canary === true ? { DeploymentStatus: { Healthy: null, Timestamp: '', Canary: true, ModifyIndex: 0 } } : {}),
      PreviousAllocation: p.previous?.ID ?? '',
      NextAllocation: '',
      FollowupEvalID: '',
      RescheduleTracker: p.previous !== null && p.rescheduleDelay !== undefined ? this.tracker(job, p, p.previous, p.rescheduleDelay) : null,
      CreateIndex: 0,
      ModifyIndex: 0,
      AllocModifyIndex: 0,
      CreateTime: now,
      ModifyTime: now,
    };
  }
}
