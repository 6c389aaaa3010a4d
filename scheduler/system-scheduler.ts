/**
 * The system and sysbatch scheduler (Nomad's SystemScheduler): one allocation of every group on
 * every feasible, ready node of the job's pool and datacenters; the group's count is ignored.
 * A new node gets its allocation when its node-update evaluation runs; allocations on nodes that
 * went down are lost, on draining nodes or nodes that left the job's scope they are stopped;
 * ineligible nodes keep what they run but get nothing new. A node that is full makes room by
 * preempting allocations of jobs at least 10 priority levels lower (Nomad's default for system
 * jobs; the scheduler configuration can turn it off). Completed sysbatch allocations are
 * not run again for the same job version. Nodes that fail a constraint are simply not part of
 * the job; nodes that are full are reported as failures, coalesced per group.
 */
import { isClientTerminal, type Allocation } from '../structs/alloc.js';
import { newAllocMetric, type AllocMetric, type Evaluation } from '../structs/eval.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { emptyPlan, isPlanEmpty, type Plan } from '../structs/plan.js';
import { inJobScope, readyNodes } from './candidates.js';
import { PlacementStack, type RankedOption } from './placement-stack.js';
import { ALLOC_JOB_STOPPED, ALLOC_LOST, ALLOC_NOT_NEEDED, ALLOC_UPDATING, allocName, groupChanged, rollingUpdateBudget } from './reconcile.js';
import { completeEval } from './eval-outcome.js';
import { preemptionDescription, preemptionEnabled } from './preemption.js';
import { MAX_SCHEDULE_ATTEMPTS, type Planner, type Scheduler, type SchedulerContext, type SchedulerState } from './scheduler-api.js';

export const ALLOC_NODE_TAINTED = 'alloc not needed as node is tainted';

interface Outcome {
  failed: Record<string, AllocMetric>;
  queued: Record<string, number>;
}

export class SystemScheduler implements Scheduler {
  constructor(
    private state: SchedulerState,
    private readonly planner: Planner,
    private readonly ctx: SchedulerContext,
  ) {}

  async process(ev: Evaluation): Promise<void> {
    let out: Outcome = { failed: {}, queued: {} };
    for (let attempts = 1; ; attempts++) {
      const started = this.ctx.now();
      const job = this.state.jobById(ev.Namespace, ev.JobID);
      const plan = emptyPlan(ev.ID, ev.Priority, job, this.state.latestIndex());
      out = this.computePlan(job, plan, ev);
      for (const m of Object.values(out.failed)) m.AllocationTime = this.ctx.now() - started;
      if (isPlanEmpty(plan)) break;
      const { result, refreshedState } = await this.planner.submitPlan(plan);
      if (result.RefreshIndex === 0 || refreshedState === null) break;
      this.state = refreshedState;
      if (attempts >= MAX_SCHEDULE_ATTEMPTS) {
        await this.planner.updateEval({ ...ev, Status: 'failed', StatusDescription: `maximum attempts reached (${MAX_SCHEDULE_ATTEMPTS})`, ModifyTime: this.ctx.now() });
        return;
      }
    }
    // Full nodes may free up: a blocked evaluation retries when capacity changes (Nomad does the same for system jobs).
    await completeEval(
      ev,
      { failed: out.failed, queued: out.queued, classEligibility: null, escapedComputedClass: ev.EscapedComputedClass, createBlocked: ev.Status !== 'blocked' },
      this.planner,
      this.ctx,
    );
  }

  private stop(plan: Plan, a: Allocation, description: string, lost = false): void {
    (plan.NodeUpdate[a.NodeID] ??= []).push({ ...a, DesiredStatus: 'stop', DesiredDescription: description, ClientStatus: lost ? 'lost' : a.ClientStatus });
  }

  private computePlan(job: Job | null, plan: Plan, ev: Evaluation): Outcome {
    const failed: Record<string, AllocMetric> = {};
    const queued: Record<string, number> = {};
    const allocs = this.state.allocsByJob(ev.Namespace, ev.JobID);
    const live = allocs.filter((a) => a.DesiredStatus === 'run' && !isClientTerminal(a.ClientStatus));
    if (job === null || job.Stop) {
      for (const a of live) this.stop(plan, a, ALLOC_JOB_STOPPED);
      return { failed, queued };
    }
    for (const tg of job.TaskGroups) queued[tg.Name] = 0;
    const groups = new Map(job.TaskGroups.map((tg) => [tg.Name, tg]));

    // What exists per node and group, and what happens to it.
    const have = new Map<string, Allocation>();
    const budgets = new Map<string, number>();
    const replaceOnNode = new Map<string, Allocation>();
    for (const a of allocs) {
      if (a.DesiredStatus !== 'run') continue;
      const node = this.state.nodeById(a.NodeID);
      const tg = groups.get(a.TaskGroup);
      const key = `${a.NodeID}\u0000${a.TaskGroup}`;
      if (isClientTerminal(a.ClientStatus)) {
        // A finished sysbatch run of this job version counts as done on its node; a failed one is replaced there.
        const sameVersion = a.Job.JobModifyIndex === job.JobModifyIndex;
        if (job.Type === 'sysbatch' && a.ClientStatus === 'complete' && sameVersion) have.set(key, a);
        else if (a.ClientStatus === 'failed' && !have.has(key)) replaceOnNode.set(key, a);
        continue;
      }
      if (node === null || node.Status === 'down') {
        this.stop(plan, a, ALLOC_LOST, true);
        continue;
      }
      if (tg === undefined || !inJobScope(job, node)) {
        this.stop(plan, a, ALLOC_NOT_NEEDED);
        continue;
      }
      if (node.Drain && node.DrainStrategy?.IgnoreSystemJobs !== true) {
        this.stop(plan, a, ALLOC_NODE_TAINTED);
        continue;
      }
      if (have.has(key)) {
        // Two live copies on one node (a race with a retried plan): keep one.
        this.stop(plan, a, ALLOC_NOT_NEEDED);
        continue;
      }
      have.set(key, a);
      if (a.Job.JobModifyIndex === job.JobModifyIndex) continue;
      if (groupChanged(a, tg)) {
        // A rolling update: at most max_parallel nodes switch versions until the new ones are healthy.
        const budget = budgets.get(tg.Name) ?? rollingUpdateBudget(job, tg, allocs);
        budgets.set(tg.Name, budget - 1);
        if (budget <= 0) continue;
        this.stop(plan, a, ALLOC_UPDATING);
        have.delete(key);
        replaceOnNode.set(key, a);
      } else {
        (plan.NodeAllocation[a.NodeID] ??= []).push({ ...a, Job: job });
      }
    }

    const candidates = readyNodes(this.state, job, () => this.ctx.random());
    const stack = new PlacementStack(this.state, this.ctx, plan, job, candidates, { batch: job.Type === 'sysbatch', exhaustive: true, algorithm: this.state.schedulerConfig?.().SchedulerAlgorithm ?? 'binpack' });
    const preempt = preemptionEnabled(this.state, job.Type);
    for (const node of candidates.nodes) {
      for (const tg of job.TaskGroups) {
        const key = `${node.ID}\u0000${tg.Name}`;
        if (have.has(key)) continue;
        const metric = newAllocMetric();
        const chosen = stack.selectOn(tg, node, metric);
        if (chosen !== null) {
          stack.place(this.newAlloc(job, tg, chosen, ev, metric, replaceOnNode.get(key) ?? null));
          continue;
        }
        // Not feasible here: the node is simply not one this job runs on.
        if (metric.NodesFiltered > 0) continue;
        if (preempt) {
          const p = stack.selectOnWithPreemption(tg, node, metric, job.Priority);
          if (p !== null) {
            const alloc = this.newAlloc(job, tg, p.option, ev, metric, replaceOnNode.get(key) ?? null);
            stack.place(alloc);
            for (const victim of p.preempted) {
              (plan.NodePreemptions[node.ID] ??= []).push({ ...victim, DesiredStatus: 'evict', DesiredDescription: preemptionDescription(alloc.ID) });
            }
            continue;
          }
        }
        queued[tg.Name] = (queued[tg.Name] ?? 0) + 1;
        const prev = failed[tg.Name];
        if (prev === undefined) {
          metric.NodesInPool = candidates.inPool;
          metric.NodesAvailable = candidates.byDc;
          failed[tg.Name] = metric;
        } else {
          mergeExhaustion(prev, metric);
        }
      }
    }
    return { failed, queued };
  }

  private newAlloc(job: Job, tg: TaskGroup, chosen: RankedOption, ev: Evaluation, metric: AllocMetric, previous: Allocation | null): Allocation {
    const now = this.ctx.now();
    const node: Node = chosen.node;
    return {
      ID: this.ctx.newId(),
      Namespace: job.Namespace,
      EvalID: ev.ID,
      // Nomad names every system allocation with index 0: there is one per node.
      Name: allocName(job.ID, tg.Name, 0),
      NodeID: node.ID,
      NodeName: node.Name,
      JobID: job.ID,
      Job: job,
      TaskGroup: tg.Name,
      AllocatedResources: chosen.resources,
      Metrics: metric,
      DesiredStatus: 'run',
      DesiredDescription: '',
      DesiredTransition: {},
      ClientStatus: 'pending',
      ClientDescription: '',
      TaskStates: {},
      DeploymentID: '',
      PreviousAllocation: previous?.ID ?? '',
      NextAllocation: '',
      FollowupEvalID: '',
      RescheduleTracker: null,
      CreateIndex: 0,
      ModifyIndex: 0,
      AllocModifyIndex: 0,
      CreateTime: now,
      ModifyTime: now,
    };
  }
}

/** Coalesce another node's failure into the group's report (Nomad: CoalescedFailures++ and ExhaustResources). */
function mergeExhaustion(into: AllocMetric, m: AllocMetric): void {
  into.CoalescedFailures++;
  into.NodesEvaluated += m.NodesEvaluated;
  into.NodesExhausted += m.NodesExhausted;
  for (const [k, v] of Object.entries(m.ClassExhausted)) into.ClassExhausted[k] = (into.ClassExhausted[k] ?? 0) + v;
  for (const [k, v] of Object.entries(m.DimensionExhausted)) into.DimensionExhausted[k] = (into.DimensionExhausted[k] ?? 0) + v;
}
