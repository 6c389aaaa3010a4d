/**
 * The leader's plan applier. Schedulers plan optimistically against snapshots, possibly in
 * parallel; here each plan is checked, one at a time, against the LATEST state: every node
 * that receives allocations must still exist, be ready and eligible (for new placements), and
 * have room for everything live on it plus the plan's additions, with no host port or device
 * instance held twice. What fits is committed through Raft; what does not is dropped (all of
 * it when the job is all_at_once) and the scheduler is told to refresh. Nothing is ever over-committed.
 *
 * Pipelined as Nomad's is: the next plan is checked as soon as this one is proposed to Raft,
 * while its commit (an fsync, and the followers) is under way. Placements proposed and not
 * yet applied count against their nodes as if committed; stops in flight free nothing until
 * they apply. So a plan checked early can only be refused more often, never over-commit.
 */
import { isAllocTerminal, type Allocation } from '../../structs/alloc.js';
import type { Plan, PlanResult } from '../../structs/plan.js';
import { add, exhaustedDimension, nodeCapacity, nodeUsage, allocatedVector, ZERO } from '../../scheduler/bin-pack.js';
import { deviceOverAssignment } from '../../scheduler/devices.js';
import { liveAllocs } from '../../scheduler/live-allocs.js';
import { allocPorts, portCollision } from '../../scheduler/ports.js';
import type { AllocDesiredUpdate, FsmCommand } from './fsm-commands.js';
import { NO_METRICS, type ServerMetricsSink } from './server-metrics.js';
import type { StateReader } from './state/state-reader.js';

export type RaftApplyFn = (cmd: FsmCommand) => Promise<{ index: number }>;

/**
 * The plan applier's figures beyond the server's sink, as Nomad's nomad.plan.* metrics. Optional,
 * so a plain ServerMetricsSink still fits; the agent's telemetry provides them all.
 */
export interface PlanApplierMetrics extends ServerMetricsSink {
  /** Seconds to check one plan against the latest state (nomad.plan.evaluate). */
  planEvaluate?(seconds: number): void;
  /** Seconds from a plan's submission to its result, queueing included (nomad.plan.submit). */
  planSubmit?(seconds: number): void;
  /** Plans submitted and not yet being applied (nomad.plan.queue_depth). */
  planQueueDepth?(depth: number): void;
}

/** A plan that passed its check and was proposed: `done` settles when Raft has applied it. */
interface Proposed {
  done: Promise<PlanResult>;
}

export class PlanApplier {
  private chain: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Placements of proposed plans not yet applied, by node. */
  private readonly inflight = new Map<string, Allocation[]>();
  /** The commits of proposed plans not yet applied. */
  private readonly commits = new Set<Promise<unknown>>();

  constructor(
    private readonly state: StateReader,
    private readonly raftApply: RaftApplyFn,
    private readonly now: () => number,
    private readonly metrics: PlanApplierMetrics = NO_METRICS,
  ) {}

  /** Plans waiting behind the one being applied. */
  queueDepth(): number {
    return this.queued;
  }

  /** Plans are checked and proposed strictly one after another, in the order they arrive. */
  apply(plan: Plan): Promise<PlanResult> {
    const submitted = performance.now();
    this.metrics.planQueueDepth?.(++this.queued);
    const proposed = this.chain.then(() => {
      this.metrics.planQueueDepth?.(--this.queued);
      return this.propose(plan);
    });
    this.chain = proposed.catch(() => undefined);
    return proposed
      .then((p) => p.done)
      .finally(() => this.metrics.planSubmit?.((performance.now() - submitted) / 1000));
  }

  /**
   * Check the plan and propose what fits. A refusal while plans are in flight waits for them
   * and checks again: the scheduler refreshes to RefreshIndex, which must include them, and
   * they may have been all that stood in the way.
   */
  private async propose(plan: Plan): Promise<Proposed> {
    if (this.commits.size > 0) {
      const first = this.check(plan, true);
      if (first !== null) return first;
      await Promise.allSettled([...this.commits]);
    }
    return this.check(plan, false)!;
  }

  /** One check and proposal; null when `onlyIfAllFits` and something did not fit. */
  private check(plan: Plan, onlyIfAllFits: boolean): Proposed | null {
    const accepted: Record<string, Allocation[]> = {};
    let refused = false;
    const t0 = performance.now();
    for (const [nodeId, allocs] of Object.entries(plan.NodeAllocation)) {
      // Evictions (preemption) free room on the node only together with the placements they make room for.
      const leaving = [...(plan.NodeUpdate[nodeId] ?? []), ...(plan.NodePreemptions[nodeId] ?? [])];
      if (this.nodeFits(nodeId, allocs, leaving)) accepted[nodeId] = allocs;
      else refused = true;
    }
    this.metrics.planEvaluate?.((performance.now() - t0) / 1000);
    if (refused && onlyIfAllFits) return null;
    if (refused && plan.AllAtOnce) {
      return settled({ NodeUpdate: {}, NodeAllocation: {}, RefreshIndex: this.state.latestIndex(), AllocIndex: 0 });
    }
    const updated: AllocDesiredUpdate[] = [];
    for (const allocs of Object.values(plan.NodeUpdate)) {
      for (const a of allocs) {
        updated.push({
          ID: a.ID,
          DesiredStatus: a.DesiredStatus,
          DesiredDescription: a.DesiredDescription,
          ...(a.ClientStatus === 'lost' ? { ClientStatus: 'lost' as const } : {}),
          // A failed allocation waiting for a delayed reschedule points at the evaluation that will do it.
          ...(a.FollowupEvalID !== '' ? { FollowupEvalID: a.FollowupEvalID } : {}),
        });
      }
    }
    const preempted: Record<string, Allocation[]> = {};
    for (const [nodeId, evicted] of Object.entries(plan.NodePreemptions)) {
      // A preemption stands only if the placement it was for was accepted.
      if (accepted[nodeId] === undefined) continue;
      preempted[nodeId] = evicted;
      for (const a of evicted) updated.push({ ID: a.ID, DesiredStatus: 'evict', DesiredDescription: a.DesiredDescription });
    }
    const placed = Object.values(accepted).flat();
    const refreshIndex = refused ? this.state.latestIndex() : 0;
    // A follower on an older build may send a plan without the deployment fields.
    const deployment = plan.Deployment ?? null;
    const deploymentUpdates = plan.DeploymentUpdates ?? [];
    if (placed.length === 0 && updated.length === 0 && deployment === null && deploymentUpdates.length === 0) {
      return settled({ NodeUpdate: {}, NodeAllocation: {}, RefreshIndex: refreshIndex, AllocIndex: 0 });
    }
    // nomad.plan.apply: the commit through Raft, the part of a plan's cost that the disk and
    // the followers set.
    const t1 = performance.now();
    // Every allocation embeds its job; the Raft entry carries the plan's job once instead of
    // once per allocation (a 100-allocation plan was 100 copies of the job on the disk).
    const planJob = plan.Job;
    const slim = placed.map((a) => {
      if (planJob === null || a.Job.ID !== planJob.ID || a.Job.Version !== planJob.Version || a.Job.Namespace !== planJob.Namespace) return a;
      const { Job: _job, ...rest } = a;
      return rest;
    });
    // The deployment travels in the same entry as its allocations: they commit together or not
    // at all. raftApply proposes before it returns, so plans enter the log in check order.
    // The evaluation's final state rides along only when the whole plan was accepted.
    const evals = !refused && plan.EvalUpdate != null ? [plan.EvalUpdate] : [];
    const commit = this.raftApply({ type: 'PlanApply', evalId: plan.EvalID, job: planJob, placed: slim, updated, evals, now: this.now(), deployment, deploymentUpdates });
    const release = this.hold(accepted);
    const applied = commit.finally(() => {
      release();
      this.commits.delete(applied);
    });
    this.commits.add(applied);
    return {
      done: applied.then(({ index }) => {
        this.metrics.planApply((performance.now() - t1) / 1000);
        return { NodeUpdate: plan.NodeUpdate, NodeAllocation: accepted, NodePreemptions: preempted, RefreshIndex: refreshIndex, AllocIndex: index, EvalUpdated: evals.length > 0 };
      }),
    };
  }

  /** Count a proposed plan's placements against their nodes until it is applied; returns the release. */
  private hold(accepted: Record<string, Allocation[]>): () => void {
    for (const [nodeId, allocs] of Object.entries(accepted)) {
      const live = allocs.filter((a) => !isAllocTerminal(a));
      if (live.length === 0) continue;
      const held = this.inflight.get(nodeId);
      if (held === undefined) this.inflight.set(nodeId, live);
      else held.push(...live);
    }
    return () => {
      for (const [nodeId, allocs] of Object.entries(accepted)) {
        const held = this.inflight.get(nodeId);
        if (held === undefined) continue;
        const gone = new Set(allocs);
        const rest = held.filter((a) => !gone.has(a));
        if (rest.length === 0) this.inflight.delete(nodeId);
        else this.inflight.set(nodeId, rest);
      }
    };
  }

  private nodeFits(nodeId: string, allocs: Allocation[], stops: Allocation[]): boolean {
    const node = this.state.nodeById(nodeId);
    if (!node) return false;
    // Look up the plan's allocations by ID rather than indexing everything the node runs: a
    // plan mostly adds new allocations to nodes that already run many.
    let hasNew = false;
    let touchesLive = false;
    for (const a of allocs) {
      const current = this.state.allocById(a.ID);
      if (current === null || current.NodeID !== nodeId) hasNew = true;
      else if (!isAllocTerminal(current)) touchesLive = true;
    }
    if (hasNew && (node.Status !== 'ready' || node.SchedulingEligibility !== 'eligible' || node.Drain)) return false;
    for (const a of stops) {
      const current = this.state.allocById(a.ID);
      if (current !== null && current.NodeID === nodeId && !isAllocTerminal(current)) touchesLive = true;
    }
    // Live allocations, minus those this plan stops or replaces in place, plus the plan's own.
    // The live set and its usage are cached per allocation list (the state's list for a node
    // only changes when something on it does); recompute only when this plan removes some.
    const base = liveAllocs(this.state.allocsByNode(nodeId));
    let live = base.live;
    let used = base.usage;
    if (touchesLive) {
      const leaving = new Set<string>();
      for (const a of stops) leaving.add(a.ID);
      for (const a of allocs) leaving.add(a.ID);
      live = base.live.filter((a) => !leaving.has(a.ID));
      used = nodeUsage(live);
    }
    const incoming = allocs.filter((a) => !isAllocTerminal(a));
    // Placements proposed and not yet applied are as good as there.
    const pending = this.inflight.get(nodeId) ?? [];
    for (const a of pending) used = add(used, allocatedVector(a.AllocatedResources));
    for (const a of incoming) used = add(used, allocatedVector(a.AllocatedResources));
    if (exhaustedDimension(nodeCapacity(node), used, ZERO) !== null) return false;
    // Two plans built on the same snapshot may pick the same free port or GPU: only one may win.
    // What the node already runs was checked when it was placed, so only a plan that hands out
    // ports or devices can collide.
    const wantsPorts = incoming.some((a) => allocPorts(a).length > 0);
    const wantsDevices = incoming.some((a) => Object.values(a.AllocatedResources.Tasks).some((t) => t.Devices.length > 0));
    if (!wantsPorts && !wantsDevices) return true;
    const after = [...live, ...pending, ...incoming];
    return (!wantsPorts || portCollision(node, after) === null) && (!wantsDevices || deviceOverAssignment(node, after) === null);
  }
}

function settled(result: PlanResult): Proposed {
  return { done: Promise.resolve(result) };
}
