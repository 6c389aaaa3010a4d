/**
 * Choosing a node for one allocation, as Nomad's GenericStack does it, one stage after another:
 * nodes in seeded random order (the cursor carries over between placements of one evaluation)
 * → feasibility (drivers, constraints, devices; cached per computed node class) →
 * distinct_hosts / distinct_property → fit (cpu, memory, disk, ports, devices) → scores
 * (bin packing, job anti-affinity, reschedule penalty, node affinity, spread, device affinity)
 * → normalization (mean of the scores a node got) → limit (a few candidates, skipping poor
 * ones) → the maximum. Every rejection is counted in the AllocMetric users see.
 *
 * This class holds the limited walk and the plan as it grows; the stages live beside it:
 * - group-plan.ts: a group's fixed facts (ask, affinities, spreads, caches) and the per-placement round;
 * - group-feasibility.ts: feasibility per position and per computed class;
 * - distinct-rules.ts: distinct_hosts / distinct_property against the plan;
 * - node-view.ts: the node as this plan leaves it (live allocations, placements, usage);
 * - node-rank.ts: fit, ports and devices, the scores and their mean for one node;
 * - exhaustive-walk.ts: the walk over every feasible node, with the equivalence index;
 * - placement-metric.ts: filter kinds, exhausted nodes and the top scores in the AllocMetric;
 * - placement-option.ts: ports/devices handed out, and the winner's option with its resources;
 * - target-values.ts: memoized `${...}` values of nodes (spread).
 *
 * Cost model: a placement visits about log2(n) nodes, so the per-visit path allocates nothing.
 * Nodes are addressed by their position in the shuffled order; feasibility is decided once per
 * node and group per evaluation; usage is re-summed only on nodes the plan changed; the
 * resources of an allocation are built only for the node that wins.
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import type { AllocMetric } from '../structs/eval.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { Plan } from '../structs/plan.js';
import type { Candidates } from './candidates.js';
import { exhaustedDimension } from './bin-pack.js';
import { distinctChecks } from './distinct-rules.js';
import { ExhaustiveWalk } from './exhaustive-walk.js';
import type { Verdict } from './feasibility.js';
import { GroupFeasibility } from './group-feasibility.js';
import { planGroup, type GroupPlan, type Round } from './group-plan.js';
import { NodeRanker } from './node-rank.js';
import { NodeViews, type NodeView } from './node-view.js';
import { FEASIBLE, FilterKinds, TopScores } from './placement-metric.js';
import { rankedOption, type Extras, type RankedOption } from './placement-option.js';
import { selectPreemptions } from './preemption.js';
import type { SchedulerContext, SchedulerState } from './scheduler-api.js';
import type { SelectOptions, StackOptions } from './stack-options.js';
import { TargetValues } from './target-values.js';

export { exhausted } from './placement-metric.js';
export type { RankedOption } from './placement-option.js';
export type { SchedulerAlgorithm, SelectOptions, StackOptions } from './stack-options.js';

/** Nomad's LimitIterator settings (stack.go): options scoring at or below 0 are passed over, at most 3 times. */
const SKIP_SCORE_THRESHOLD = 0;
const MAX_SKIP = 3;

export class PlacementStack {
  private cursor = 0;
  private readonly views: NodeViews;
  /** Node ID → position: filled for chosen nodes as they are chosen, for all only when a caller needs that. */
  private readonly positions = new Map<string, number>();
  private allPositions = false;
  /** Live allocations of the job once the plan applies; grows as `place` adds to the plan. */
  private jobList: Allocation[] | null = null;
  private readonly values = new TargetValues();
  private readonly groups = new Map<string, GroupPlan>();
  private readonly kinds = new FilterKinds();
  private readonly feasibility: GroupFeasibility;
  private readonly ranker: NodeRanker;
  private readonly walk: ExhaustiveWalk;
  /** Scratch for the candidates of one limited selection. */
  private readonly pickedPos: number[] = [];
  private readonly pickedScore: number[] = [];
  private readonly pickedExtras: Extras[] = [];
  private readonly top = new TopScores<Extras>();
  /** The candidates in shuffled order: positions index them. */
  readonly nodes: Node[];

  constructor(
    private readonly state: SchedulerState,
    ctx: SchedulerContext,
    private readonly plan: Plan,
    private readonly job: Job,
    /** Ready, eligible candidates in the pool and datacenters, already shuffled (readyNodes). */
    candidates: Candidates,
    private readonly opts: StackOptions,
  ) {
    const nodes = candidates.nodes;
    this.nodes = nodes;
    this.views = new NodeViews(state, plan, candidates);
    this.feasibility = new GroupFeasibility(job, nodes, this.kinds, candidates.classIds);
    this.ranker = new NodeRanker(state, ctx, job, nodes, this.views, this.values, opts);
    this.walk = new ExhaustiveWalk(nodes, this.views, this.values, this.feasibility, this.kinds, this.ranker);
  }

  /** Position of a candidate node, or undefined when it is not one. */
  private posOf(nodeId: string): number | undefined {
    const p = this.positions.get(nodeId);
    if (p !== undefined || this.allPositions) return p;
    for (let i = 0; i < this.nodes.length; i++) this.positions.set(this.nodes[i]!.ID, i);
    this.allPositions = true;
    return this.positions.get(nodeId);
  }

  /** Add a new or updated allocation to the plan; scoring for later placements sees it. */
  place(alloc: Allocation): void {
    (this.plan.NodeAllocation[alloc.NodeID] ??= []).push(alloc);
    if (this.jobList !== null && alloc.JobID === this.job.ID && alloc.Namespace === this.job.Namespace) this.jobList.push(alloc);
    const pos = this.posOf(alloc.NodeID);
    if (pos === undefined) return;
    this.views.touch(pos);
    for (const g of this.groups.values()) g.index?.update(pos);
  }

  /** Feasibility of one node, memoized per computed class unless a constraint reads unique properties. */
  feasible(tg: TaskGroup, node: Node, escaped: boolean): Verdict {
    return this.feasibility.feasible(tg, node, escaped);
  }

  /** Per-class feasibility seen so far, for the evaluation's ClassEligibility. */
  classEligibility(): Record<string, boolean> {
    return this.feasibility.classEligibility();
  }

  /** The group's fixed facts, worked out on its first placement. */
  private group(tg: TaskGroup): GroupPlan {
    let g = this.groups.get(tg.Name);
    if (g !== undefined && g.tg === tg) return g;
    g = planGroup(this.job, tg, this.nodes.length);
    this.groups.set(tg.Name, g);
    return g;
  }

  /** The per-placement state: spread counts brought up to date, distinct rules against the plan so far. */
  private round(tg: TaskGroup, sel: SelectOptions): Round {
    const g = this.group(tg);
    g.spread?.update(
      this.jobAllocs(),
      (a) => this.nodeOf(a),
      (t, n) => this.values.get(t, n),
    );
    const penalty = sel.penaltyNodes !== undefined && sel.penaltyNodes.size > 0 ? sel.penaltyNodes : null;
    const distinct = g.hasDistinct ? distinctChecks(this.job, tg, () => this.jobAllocs(), (a) => this.nodeOf(a)) : null;
    return { g, distinct, penalty };
  }

  /** Pick the best node for one allocation of `tg` among the candidates. */
  select(tg: TaskGroup, metric: AllocMetric, sel: SelectOptions = {}): RankedOption | null {
    const n = this.nodes.length;
    if (n === 0) return null;
    const r = this.round(tg, sel);
    if (this.opts.exhaustive === true || r.g.unlimited) {
      const best = this.walk.select(r, metric);
      return best < 0 ? null : this.option(r, best, this.walk.bestExtras);
    }
    const limit = this.opts.batch ? 2 : Math.max(2, Math.ceil(Math.log2(n)));
    const pos = this.pickedPos;
    const score = this.pickedScore;
    const extras = this.pickedExtras;
    const ranker = this.ranker;
    const top = this.top;
    let picked = 0;
    // Skipped options (score <= 0) sit at the end of the scratch arrays, from `limit` on.
    let skipped = 0;
    const hits = this.kinds.hits;
    let anyFiltered = false;
    for (let seen = 0; seen < n && picked < limit; seen++) {
      const i = this.cursor;
      this.cursor = i + 1 === n ? 0 : i + 1;
      metric.NodesEvaluated++;
      const kind = this.feasibility.verdictAt(r.g, i);
      if (kind !== FEASIBLE) {
        hits[kind]!++;
        anyFiltered = true;
        continue;
      }
      const s = ranker.rank(r, i, metric, false);
      if (s === null) continue;
      top.keep(i, s, ranker.lastExtras);
      if (s <= SKIP_SCORE_THRESHOLD && skipped < MAX_SKIP) {
        pos[limit + skipped] = i;
        score[limit + skipped] = s;
        extras[limit + skipped] = ranker.lastExtras;
        skipped++;
        continue;
      }
      pos[picked] = i;
      score[picked] = s;
      extras[picked] = ranker.lastExtras;
      picked++;
    }
    if (anyFiltered) this.kinds.flushHits(metric);
    // Skipped options are used only when not enough better ones turned up (Nomad's LimitIterator).
    for (let s = 0; s < skipped && picked < limit; s++) {
      pos[picked] = pos[limit + s]!;
      score[picked] = score[limit + s]!;
      extras[picked] = extras[limit + s]!;
      picked++;
    }
    for (let k = 0; k < top.n; k++) ranker.record(r, top.pos[k]!, top.score[k]!, top.extras[k]!, metric);
    top.n = 0;
    let best = -1;
    for (let k = 0; k < picked; k++) if (best < 0 || score[k]! > score[best]!) best = k;
    return best < 0 ? null : this.option(r, pos[best]!, extras[best]!);
  }

  /**
   * Try one given node (the system scheduler places per node). Returns null when it is
   * infeasible (metric.NodesFiltered grows) or full (metric.NodesExhausted grows).
   */
  selectOn(tg: TaskGroup, node: Node, metric: AllocMetric): RankedOption | null {
    const pos = this.posOf(node.ID);
    if (pos === undefined) throw new Error(`node ${node.ID} is not a candidate of this stack`);
    const r = this.round(tg, {});
    metric.NodesEvaluated++;
    const kind = this.feasibility.verdictAt(r.g, pos);
    if (kind !== FEASIBLE) {
      this.kinds.add(metric, kind, 1);
      return null;
    }
    return this.ranker.rank(r, pos, metric) === null ? null : this.option(r, pos, this.ranker.lastExtras);
  }

  /**
   * The system scheduler's second try on a node that is out of cpu, memory or disk: evict
   * allocations of lower-priority jobs (preemption.ts) and rank the node again. Returns the
   * option and the allocations to evict, or null, in which case nothing is evicted.
   */
  selectOnWithPreemption(tg: TaskGroup, node: Node, metric: AllocMetric, jobPriority: number): { option: RankedOption; preempted: Allocation[] } | null {
    const pos = this.posOf(node.ID);
    if (pos === undefined) throw new Error(`node ${node.ID} is not a candidate of this stack`);
    const r = this.round(tg, {});
    if (this.feasibility.verdictAt(r.g, pos) !== FEASIBLE) return null;
    const view = this.views.at(pos);
    const ask = r.g.ask;
    // Ports, devices and distinct rules are not what preemption frees here: only a resource shortage qualifies.
    if (exhaustedDimension(view.capacity, view.usage, ask) === null) return null;
    const free = { cpu: view.capacity.cpu - view.usage.cpu, memoryMB: view.capacity.memoryMB - view.usage.memoryMB, diskMB: view.capacity.diskMB - view.usage.diskMB };
    const victims = selectPreemptions(free, ask, view.live, jobPriority);
    if (victims === null) return null;
    const before = view.live;
    const gone = new Set(victims.map((a) => a.ID));
    this.setLive(pos, view, before.filter((a) => !gone.has(a.ID)));
    if (this.ranker.rank(r, pos, metric) === null) {
      this.setLive(pos, view, before);
      return null;
    }
    return { option: this.option(r, pos, this.ranker.lastExtras), preempted: victims };
  }

  /** Replace what a node runs from before the plan (preemption evicts some of it). */
  private setLive(pos: number, view: NodeView, live: readonly Allocation[]): void {
    this.views.setLive(view, live);
    for (const g of this.groups.values()) g.index?.update(pos);
  }

  /** The winner as an option the scheduler turns into an allocation: its resources are built here, once. */
  private option(r: Round, pos: number, extras: Extras): RankedOption {
    const node = this.nodes[pos]!;
    // `place` will be asked about this node next: no need to index every candidate for that.
    this.positions.set(node.ID, pos);
    const scores: Record<string, number> = {};
    const score = this.ranker.score(r, pos, this.views.at(pos), extras, scores);
    return rankedOption(r.g.tg, node, extras, scores, score);
  }

  /** Live allocations of this job (all nodes) once the plan applies, for distinct_property and spread. */
  private jobAllocs(): Allocation[] {
    if (this.jobList !== null) return this.jobList;
    const out: Allocation[] = [];
    const stopped = new Set(Object.values(this.plan.NodeUpdate).flatMap((l) => l.map((a) => a.ID)));
    const placed = Object.values(this.plan.NodeAllocation)
      .flat()
      .filter((a) => a.JobID === this.job.ID && a.Namespace === this.job.Namespace);
    const placedIds = new Set(placed.map((a) => a.ID));
    for (const a of this.state.allocsByJob(this.job.Namespace, this.job.ID)) {
      if (!isAllocTerminal(a) && !stopped.has(a.ID) && !placedIds.has(a.ID)) out.push(a);
    }
    this.jobList = [...out, ...placed];
    return this.jobList;
  }

  private nodeOf(a: Allocation): Node | null {
    const pos = this.positions.get(a.NodeID);
    return pos !== undefined ? this.nodes[pos]! : this.state.nodeById(a.NodeID);
  }
}
