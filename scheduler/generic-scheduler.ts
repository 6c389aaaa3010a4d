/**
 * The service/batch scheduler: reconcile the job against its allocations, pick a node for
 * each placement (feasibility, then bin packing), submit the plan, retry on a refused plan with
 * fresher state, and record why anything could not be placed. Placements that fail leave a
 * blocked evaluation behind, which the servers unblock when capacity appears.
 */
import type { Allocation } from '../structs/alloc.js';
import { newAllocMetric, type AllocMetric, type Evaluation } from '../structs/eval.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { emptyPlan, isPlanEmpty, type Plan } from '../structs/plan.js';
import type { AllocatedResources } from '../structs/resources.js';
import { add, binPackScore, exhaustedDimension, nodeCapacity, nodeUsage, taskGroupAsk, ZERO, type ResourceVector } from './bin-pack.js';
import { checkFeasible, globMatch, recordFiltered } from './feasibility.js';
import { reconcile, type Placement } from './reconcile.js';
import { MAX_SCHEDULE_ATTEMPTS, type Planner, type Scheduler, type SchedulerContext, type SchedulerState } from './scheduler-api.js';

export class GenericScheduler implements Scheduler {
  constructor(
    private state: SchedulerState,
    private readonly planner: Planner,
    private readonly ctx: SchedulerContext,
  ) {}

  async process(ev: Evaluation): Promise<void> {
    let failed: Record<string, AllocMetric> = {};
    let queued: Record<string, number> = {};
    let attempts = 0;
    for (;;) {
      attempts++;
      const started = this.ctx.now();
      const job = this.state.jobById(ev.Namespace, ev.JobID);
      const plan = emptyPlan(ev.ID, ev.Priority, job, this.state.latestIndex());
      ({ failed, queued } = this.computePlan(job, plan, ev));
      for (const m of Object.values(failed)) m.AllocationTime = this.ctx.now() - started;
      if (isPlanEmpty(plan)) break;
      const { result, refreshedState } = await this.planner.submitPlan(plan);
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
    const hasFailures = Object.keys(failed).length > 0;
    let blockedId = '';
    if (hasFailures) {
      blockedId = this.ctx.newId();
      const now = this.ctx.now();
      await this.planner.createEval({
        ...ev,
        ID: blockedId,
        Status: 'blocked',
        StatusDescription: 'created to place remaining allocations',
        TriggeredBy: 'queued-allocs',
        PreviousEval: ev.ID,
        BlockedEval: '',
        NextEval: '',
        FailedTGAllocs: null,
        QueuedAllocations: queued,
        ClassEligibility: null,
        CreateTime: now,
        ModifyTime: now,
      });
    }
    await this.planner.updateEval({
      ...ev,
      Status: 'complete',
      StatusDescription: '',
      FailedTGAllocs: hasFailures ? failed : null,
      QueuedAllocations: queued,
      BlockedEval: blockedId,
      ModifyTime: this.ctx.now(),
    });
  }

  /** Fill `plan`; returns per-group failure metrics and queued counts. */
  private computePlan(job: Job | null, plan: Plan, ev: Evaluation): { failed: Record<string, AllocMetric>; queued: Record<string, number> } {
    const allocs = this.state.allocsByJob(ev.Namespace, ev.JobID);
    const r = reconcile(job, allocs, (a) => {
      const node = this.state.nodeById(a.NodeID);
      return node === null || node.Status === 'down';
    });
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
    if (job === null) return { failed, queued };
    for (const a of r.inplace) {
      (plan.NodeAllocation[a.NodeID] ??= []).push({ ...a, Job: job });
    }
    if (r.place.length === 0) return { failed, queued };

    const candidates = this.readyNodes(job);
    const extra = new Map<string, ResourceVector>();
    for (const p of r.place) {
      const metric = newAllocMetric();
      metric.NodesInPool = candidates.inPool;
      metric.NodesAvailable = candidates.byDc;
      const chosen = this.selectNode(job, p.tg, candidates.nodes, plan, extra, metric);
      if (!chosen) {
        queued[p.tg.Name] = (queued[p.tg.Name] ?? 0) + 1;
        const prev = failed[p.tg.Name];
        if (prev) prev.CoalescedFailures++;
        else failed[p.tg.Name] = metric;
        continue;
      }
      const alloc = this.newAlloc(job, p, chosen, ev, metric);
      (plan.NodeAllocation[chosen.ID] ??= []).push(alloc);
      extra.set(chosen.ID, add(extra.get(chosen.ID) ?? ZERO, taskGroupAsk(p.tg)));
    }
    return { failed, queued };
  }

  private readyNodes(job: Job): { nodes: Node[]; inPool: number; byDc: Record<string, number> } {
    const byDc: Record<string, number> = {};
    let inPool = 0;
    const nodes: Node[] = [];
    for (const n of this.state.nodes()) {
      if (job.NodePool !== 'all' && n.NodePool !== job.NodePool) continue;
      inPool++;
      if (!job.Datacenters.some((dc) => globMatch(dc, n.Datacenter))) continue;
      if (n.Status !== 'ready' || n.SchedulingEligibility !== 'eligible' || n.Drain) continue;
      byDc[n.Datacenter] = (byDc[n.Datacenter] ?? 0) + 1;
      nodes.push(n);
    }
    // Nomad shuffles candidates so equal scores spread across nodes; the RNG is seeded.
    for (let i = nodes.length - 1; i > 0; i--) {
      const j = Math.floor(this.ctx.random() * (i + 1));
      [nodes[i], nodes[j]] = [nodes[j]!, nodes[i]!];
    }
    return { nodes, inPool, byDc };
  }

  private selectNode(job: Job, tg: TaskGroup, nodes: Node[], plan: Plan, extra: Map<string, ResourceVector>, metric: AllocMetric): Node | null {
    const ask = taskGroupAsk(tg);
    let best: { node: Node; score: number } | null = null;
    for (const node of nodes) {
      metric.NodesEvaluated++;
      const verdict = checkFeasible(job, tg, node);
      if (!verdict.ok) {
        recordFiltered(metric, node, verdict.reason);
        continue;
      }
      const stopping = new Set((plan.NodeUpdate[node.ID] ?? []).map((a) => a.ID));
      const live = this.state.allocsByNode(node.ID).filter((a) => !stopping.has(a.ID));
      const used = add(nodeUsage(live), extra.get(node.ID) ?? ZERO);
      const capacity = nodeCapacity(node);
      const dim = exhaustedDimension(capacity, used, ask);
      if (dim) {
        metric.NodesExhausted++;
        const cls = node.NodeClass || '<none>';
        metric.ClassExhausted[cls] = (metric.ClassExhausted[cls] ?? 0) + 1;
        metric.DimensionExhausted[dim] = (metric.DimensionExhausted[dim] ?? 0) + 1;
        continue;
      }
      const score = binPackScore(capacity, add(used, ask));
      metric.ScoreMetaData.push({ NodeID: node.ID, Scores: { binpack: score }, NormScore: score });
      if (!best || score > best.score) best = { node, score };
    }
    metric.ScoreMetaData.sort((a, b) => b.NormScore - a.NormScore);
    metric.ScoreMetaData = metric.ScoreMetaData.slice(0, 5);
    return best?.node ?? null;
  }

  private newAlloc(job: Job, p: Placement, node: Node, ev: Evaluation, metric: AllocMetric): Allocation {
    const now = this.ctx.now();
    const tasks: AllocatedResources['Tasks'] = {};
    for (const t of p.tg.Tasks) {
      tasks[t.Name] = {
        Cpu: { CpuShares: t.Resources.CPU, ReservedCores: [] },
        Memory: { MemoryMB: t.Resources.MemoryMB, MemoryMaxMB: t.Resources.MemoryMaxMB },
        Networks: [],
        Devices: [],
      };
    }
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
      AllocatedResources: { Tasks: tasks, Shared: { DiskMB: p.tg.EphemeralDisk?.SizeMB ?? 0, Networks: [], Ports: [] } },
      Metrics: metric,
      DesiredStatus: 'run',
      DesiredDescription: '',
      DesiredTransition: {},
      ClientStatus: 'pending',
      ClientDescription: '',
      TaskStates: {},
      DeploymentID: '',
      PreviousAllocation: p.previous?.ID ?? '',
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
