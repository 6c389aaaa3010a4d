/**
 * A scheduler test harness, after Nomad's: a real in-memory cluster state and a planner that
 * applies plans to it and records them (optionally refusing the next N plans, to exercise the
 * refresh-and-retry path).
 */
import { isAllocTerminal, type Allocation } from '../../structs/alloc.js';
import type { Deployment } from '../../structs/deployment.js';
import type { Evaluation } from '../../structs/eval.js';
import type { Job } from '../../structs/job.js';
import type { Node } from '../../structs/node.js';
import type { Plan, PlanResult } from '../../structs/plan.js';
import type { PlanSubmission, Planner, SchedulerConfigView, SchedulerContext, SchedulerState } from '../scheduler-api.js';

export class MemState implements SchedulerState {
  index = 1;
  readonly jobs = new Map<string, Job>();
  readonly nodeMap = new Map<string, Node>();
  /** Read freely; write through putAlloc so the indexes stay right. */
  readonly allocMap = new Map<string, Allocation>();
  private readonly byNode = new Map<string, Set<string>>();
  private readonly byJob = new Map<string, Set<string>>();
  /** Deployments by ID; plans commit theirs through RecordingPlanner. */
  readonly deployments = new Map<string, Deployment>();

  algorithm: 'binpack' | 'spread' = 'binpack';
  /** Left undefined, the schedulers use Nomad's defaults (preemption for system jobs only). */
  preemption: SchedulerConfigView['PreemptionConfig'] = undefined;

  schedulerConfig(): SchedulerConfigView {
    return this.preemption === undefined ? { SchedulerAlgorithm: this.algorithm } : { SchedulerAlgorithm: this.algorithm, PreemptionConfig: this.preemption };
  }
  latestIndex(): number {
    return this.index;
  }
  jobById(ns: string, id: string): Job | null {
    return this.jobs.get(`${ns}/${id}`) ?? null;
  }
  nodes(): Node[] {
    return [...this.nodeMap.values()];
  }
  nodeById(id: string): Node | null {
    return this.nodeMap.get(id) ?? null;
  }
  allocsByJob(ns: string, jobId: string): Allocation[] {
    return this.lookup(this.byJob.get(`${ns}/${jobId}`));
  }
  allocsByNode(nodeId: string): Allocation[] {
    return this.lookup(this.byNode.get(nodeId));
  }
  latestDeploymentByJob(ns: string, jobId: string): Deployment | null {
    let latest: Deployment | null = null;
    for (const d of this.deployments.values()) {
      if (d.Namespace === ns && d.JobID === jobId && (latest === null || d.CreateIndex > latest.CreateIndex)) latest = d;
    }
    return latest;
  }
  putDeployment(d: Deployment): void {
    this.deployments.set(d.ID, d);
    this.index++;
  }
  /** Insert or replace an allocation, keeping the by-node and by-job indexes (10,000-node benchmarks need them). */
  putAlloc(a: Allocation): void {
    const prev = this.allocMap.get(a.ID);
    if (prev && prev.NodeID !== a.NodeID) this.byNode.get(prev.NodeID)?.delete(a.ID);
    this.allocMap.set(a.ID, a);
    let n = this.byNode.get(a.NodeID);
    if (!n) this.byNode.set(a.NodeID, (n = new Set()));
    n.add(a.ID);
    const jk = `${a.Namespace}/${a.JobID}`;
    let j = this.byJob.get(jk);
    if (!j) this.byJob.set(jk, (j = new Set()));
    j.add(a.ID);
  }
  private lookup(ids: Set<string> | undefined): Allocation[] {
    if (!ids) return [];
    const out: Allocation[] = [];
    for (const id of ids) {
      const a = this.allocMap.get(id);
      if (a) out.push(a);
    }
    return out;
  }
  putJob(job: Job): void {
    this.jobs.set(`${job.Namespace}/${job.ID}`, job);
    this.index++;
  }
  putNode(node: Node): void {
    this.nodeMap.set(node.ID, node);
    this.index++;
  }
  liveAllocs(jobId: string): Allocation[] {
    return [...this.allocMap.values()].filter((a) => a.JobID === jobId && !isAllocTerminal(a));
  }
}

export class RecordingPlanner implements Planner {
  readonly plans: Plan[] = [];
  readonly evals: Evaluation[] = [];
  readonly created: Evaluation[] = [];
  /** Refuse this many upcoming plans entirely (as if the state moved on). */
  refuseNext = 0;

  constructor(private readonly state: MemState) {}

  async submitPlan(plan: Plan): Promise<PlanSubmission> {
    this.plans.push(plan);
    if (this.refuseNext > 0) {
      this.refuseNext--;
      const result: PlanResult = { NodeUpdate: {}, NodeAllocation: {}, RefreshIndex: this.state.index, AllocIndex: 0 };
      return { result, refreshedState: this.state };
    }
    this.state.index++;
    if (plan.Deployment) this.state.deployments.set(plan.Deployment.ID, { ...plan.Deployment, CreateIndex: this.state.index, ModifyIndex: this.state.index });
    for (const u of plan.DeploymentUpdates) {
      const d = this.state.deployments.get(u.DeploymentID);
      if (d) this.state.deployments.set(d.ID, { ...d, Status: u.Status, StatusDescription: u.StatusDescription, ModifyIndex: this.state.index });
    }
    for (const allocs of [...Object.values(plan.NodeUpdate), ...Object.values(plan.NodePreemptions)]) {
      for (const a of allocs) {
        const cur = this.state.allocMap.get(a.ID);
        if (cur) this.state.putAlloc({ ...cur, DesiredStatus: a.DesiredStatus, DesiredDescription: a.DesiredDescription, ClientStatus: a.ClientStatus, FollowupEvalID: a.FollowupEvalID });
      }
    }
    for (const allocs of Object.values(plan.NodeAllocation)) for (const a of allocs) this.state.putAlloc({ ...a, CreateIndex: this.state.index });
    // As the plan applier does: a fully accepted plan commits the evaluation's final state with it.
    const evalUpdated = plan.EvalUpdate != null;
    if (plan.EvalUpdate != null) this.evals.push(plan.EvalUpdate);
    return {
      result: { NodeUpdate: plan.NodeUpdate, NodeAllocation: plan.NodeAllocation, NodePreemptions: plan.NodePreemptions, RefreshIndex: 0, AllocIndex: this.state.index, EvalUpdated: evalUpdated },
      refreshedState: null,
    };
  }
  /** Evaluation updates made on their own (not with a plan). */
  separateUpdates = 0;
  async updateEval(ev: Evaluation): Promise<void> {
    this.separateUpdates++;
    this.evals.push(ev);
  }
  async createEval(ev: Evaluation): Promise<void> {
    this.created.push(ev);
  }
}

/** A deterministic context: fixed clock, seeded RNG (mulberry32), sequential IDs. */
export function testContext(seed = 1): SchedulerContext {
  let s = seed >>> 0;
  let n = 0;
  return {
    now: () => 1_700_000_000_000_000_000,
    random: () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  };
}
