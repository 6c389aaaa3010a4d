/**
 * Choosing a node for one allocation, as Nomad's GenericStack does it, one stage after another:
 * nodes in seeded random order (the cursor carries over between placements of one evaluation)
 * → feasibility (drivers, constraints, devices; cached per computed node class) →
 * distinct_hosts / distinct_property → fit (cpu, memory, disk, ports, devices) → scores
 * (bin packing, job anti-affinity, reschedule penalty, node affinity, spread, device affinity)
 * → normalization (mean of the scores a node got) → limit (a few candidates, skipping poor
 * ones) → the maximum. Every rejection is counted in the AllocMetric users see.
 *
 * Cost model: a placement visits about log2(n) nodes, so the per-visit path allocates nothing.
 * Nodes are addressed by their position in the shuffled order; feasibility is decided once per
 * node and group per evaluation; usage is re-summed only on nodes the plan changed; the
 * resources of an allocation are built only for the node that wins.
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import type { Affinity, Constraint, Spread } from '../structs/constraint.js';
import type { AllocMetric } from '../structs/eval.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { Plan } from '../structs/plan.js';
import type { AllocatedDeviceResource, AllocatedResources } from '../structs/resources.js';
import { addInto, allocatedVector, binPackScore, exhaustedDimension, nodeCapacity, nodeUsage, spreadFitScore, taskGroupAsk, ZERO, type Dimension, type ResourceVector } from './bin-pack.js';
import { checkConstraint, resolveTarget } from './constraint-check.js';
import { assignDevices, groupWantsDevices, usedDeviceIds } from './devices.js';
import { EquivalenceIndex } from './equivalence-index.js';
import { selectPreemptions } from './preemption.js';
import { checkFeasible, recordFiltered, type Verdict } from './feasibility.js';
import { computedClass, groupEscapesClass, targetEscapes } from './node-class.js';
import { assignGroupPorts, usedPorts, type AssignedNetworks } from './ports.js';
import type { SchedulerContext, SchedulerState } from './scheduler-api.js';
import { liveAllocs } from './live-allocs.js';
import { SpreadScore } from './spread-score.js';

/** Nomad's LimitIterator settings (stack.go): options scoring at or below 0 are passed over, at most 3 times. */
const SKIP_SCORE_THRESHOLD = 0;
const MAX_SKIP = 3;
/** How many top-scoring nodes the metric keeps (Nomad's maxScoreMetaData / K). */
const SCORE_META_KEEP = 5;
/** Feasibility not decided yet for a position; 0 means feasible, >0 is a filter kind. */
const UNKNOWN = -1;
const FEASIBLE = 0;

export type SchedulerAlgorithm = 'binpack' | 'spread';

export interface StackOptions {
  /** Batch jobs look at 2 candidates; service jobs at max(2, ceil(log2 n)) (Nomad's stack.go). */
  batch: boolean;
  /** Look at every feasible node (system jobs). */
  exhaustive?: boolean;
  algorithm?: SchedulerAlgorithm;
}

export interface RankedOption {
  node: Node;
  resources: AllocatedResources;
  scores: Record<string, number>;
  score: number;
}

export interface SelectOptions {
  /** Nodes that a failed predecessor ran on: scored down (Nomad's NodeReschedulingPenaltyIterator). */
  penaltyNodes?: ReadonlySet<string>;
}

interface NodeView {
  /** Existing allocations still live after the plan's stops. */
  live: readonly Allocation[];
  /** What `live` uses, when known without summing (no stops on the node). */
  liveUsage: ResourceVector | null;
  liveIds: Set<string> | null;
  /** `live` is everything live on the node in the state (no stop or eviction of this plan touches it). */
  liveShared: boolean;
  /** The first `sharedLen` entries of `proposed` are `live`, when it is shared (0 otherwise). */
  sharedLen: number;
  /** The plan placed something here since `proposed` was built. */
  dirty: boolean;
  /** How many of the plan's placements on the node `proposed` and `usage` include (-1: none yet). */
  placedLen: number;
  proposed: readonly Allocation[];
  /** `proposed` once this plan added to it (a copy of `live` that grows). */
  own: Allocation[] | null;
  usage: ResourceVector;
  capacity: ResourceVector;
  /** The last fit computed against `usage`: for which ask, and its outcome. */
  fitAsk: ResourceVector | null;
  fitDim: Dimension | null;
  fitScore: number;
  /** The group `collisionCount` was counted for (null: not counted since the view was built). */
  collisionGroup: string | null;
  collisionCount: number;
}

/** Ports and devices a node would hand out, decided while ranking it (only for groups that ask for them). */
interface Extras {
  ports: AssignedNetworks;
  devices: Record<string, AllocatedDeviceResource[]> | null;
  deviceScore: number;
}

const NO_EXTRAS: Extras = { ports: { networks: [], ports: [] }, devices: null, deviceScore: 0 };

/** Everything about a group that stays fixed for the evaluation. */
interface GroupPlan {
  tg: TaskGroup;
  affinities: Affinity[];
  affinityWeight: number;
  /** Affinities and spreads need every node scored (Nomad lifts the limit for them). */
  unlimited: boolean;
  escaped: boolean;
  ask: ResourceVector;
  wantsDevices: boolean;
  hasNetworks: boolean;
  hasDistinct: boolean;
  spreads: Spread[];
  spread: SpreadScore | null;
  /** Equal keys score equally: no ports, devices, distinct or unique-attribute rules. */
  shortcut: boolean;
  /** Feasibility per position: UNKNOWN, FEASIBLE or a filter kind. */
  verdict: Int32Array;
  /** Feasibility per computed class, as FEASIBLE or a filter kind. */
  classKinds: Map<string, number>;
  /** Positions that pass feasibility, ascending (built when every node must be scored). */
  feasible: number[] | null;
  /** Filtered nodes per kind, for the bulk count of an exhaustive walk. */
  filteredKinds: Map<number, number>;
  index: EquivalenceIndex | null;
  /** Static part of a position's equivalence key. */
  staticKey: string[];
  /** Live allocations of the group per node in the state (existingOf). */
  existing: Map<string, number> | null;
}

/** What changes from one placement to the next: distinct rules read the plan as it grows. */
interface Round {
  g: GroupPlan;
  distinct: ((node: Node, proposed: readonly Allocation[]) => string | null) | null;
  penalty: ReadonlySet<string> | null;
}

export class PlacementStack {
  private cursor = 0;
  private readonly views: (NodeView | undefined)[];
  /** Node ID → position: filled for chosen nodes as they are chosen, for all only when a caller needs that. */
  private readonly positions = new Map<string, number>();
  private allPositions = false;
  /** Live allocations of the job once the plan applies; grows as `place` adds to the plan. */
  private jobList: Allocation[] | null = null;
  private readonly valueCache = new Map<string, Map<string, string | undefined>>();
  private readonly groups = new Map<string, GroupPlan>();
  private readonly classVerdicts = new Map<string, Map<string, Verdict>>();
  /** Filter kinds: (node class, reason) pairs, numbered from 1. */
  private readonly kinds: Array<{ cls: string; reason: string }> = [{ cls: '', reason: '' }];
  private readonly kindIds = new Map<string, number>();
  /** Filtered nodes per kind during one limited selection, flushed into its metric at the end. */
  private readonly kindHits: number[] = [0];
  /** Scratch for the candidates of one limited selection. */
  private readonly pickedPos: number[] = [];
  private readonly pickedScore: number[] = [];
  private readonly pickedExtras: Extras[] = [];
  /**
   * The best few nodes of one limited selection, best first (ties in visit order): recorded in
   * the metric when the selection ends, so only the records that stay are built.
   */
  private readonly topPos: number[] = [];
  private readonly topScore: number[] = [];
  private readonly topExtras: Extras[] = [];
  private topN = 0;
  /** Ports/devices of the node ranked last (NO_EXTRAS when the group asks for none). */
  private lastExtras: Extras = NO_EXTRAS;

  constructor(
    private readonly state: SchedulerState,
    private readonly ctx: SchedulerContext,
    private readonly plan: Plan,
    private readonly job: Job,
    /** Ready, eligible candidates in the pool and datacenters, already shuffled. */
    readonly nodes: Node[],
    private readonly opts: StackOptions,
  ) {
    this.views = new Array<NodeView | undefined>(nodes.length);
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
    const v = this.views[pos];
    if (v !== undefined) v.dirty = true;
    for (const g of this.groups.values()) g.index?.update(pos);
  }

  /**
   * The node as this plan leaves it, cached: rebuilt only when the plan placed something new
   * there (at 10,000 nodes, re-summing every node's allocations per placement dominates).
   */
  private viewAt(pos: number): NodeView {
    let v = this.views[pos];
    if (v !== undefined && !v.dirty) return v;
    const node = this.nodes[pos]!;
    if (v === undefined) {
      const stops = this.plan.NodeUpdate[node.ID];
      const stopping = stops === undefined ? null : new Set(stops.map((a) => a.ID));
      const all = this.state.allocsByNode(node.ID);
      const known = stopping === null ? liveAllocs(all) : null;
      const live = known !== null ? known.live : all.filter((a) => !isAllocTerminal(a) && !stopping!.has(a.ID));
      v = { live, liveUsage: known?.usage ?? null, liveIds: null, liveShared: known !== null, sharedLen: 0, dirty: true, placedLen: -1, proposed: live, own: null, usage: ZERO, capacity: nodeCapacity(node), fitAsk: null, fitDim: null, fitScore: 0, collisionGroup: null, collisionCount: 0 };
      this.views[pos] = v;
    }
    const placed = this.plan.NodeAllocation[node.ID] ?? [];
    if (v.placedLen >= 0 && v.placedLen <= placed.length && this.appendOnly(v, placed)) {
      // The common case: new allocations joined the node; add them rather than re-summing.
      if (v.own === null) {
        v.proposed = v.own = [...v.live];
        v.sharedLen = v.liveShared ? v.live.length : 0;
      }
      const own = v.own;
      const usage = { ...v.usage };
      for (let k = v.placedLen; k < placed.length; k++) {
        const a = placed[k]!;
        own.push(a);
        if (!isAllocTerminal(a)) addInto(usage, allocatedVector(a.AllocatedResources));
      }
      v.usage = usage;
    } else if (placed.length === 0) {
      v.proposed = v.live;
      v.own = null;
      v.sharedLen = v.liveShared ? v.live.length : 0;
      v.usage = v.liveUsage ?? (v.live.length === 0 ? ZERO : nodeUsage(v.live));
    } else {
      // Some placement replaces a live allocation (an in-place update): rebuild.
      const replaced = new Set(placed.map((a) => a.ID));
      v.proposed = v.own = [...v.live.filter((a) => !replaced.has(a.ID)), ...placed];
      v.sharedLen = 0;
      v.usage = nodeUsage(v.proposed);
    }
    v.placedLen = placed.length;
    v.fitAsk = null;
    v.collisionGroup = null;
    v.dirty = false;
    return v;
  }

  /** Do the placements added since the view was built all add to the node (none replaces a live allocation)? */
  private appendOnly(v: NodeView, placed: Allocation[]): boolean {
    if (v.live.length === 0) return true;
    v.liveIds ??= new Set(v.live.map((a) => a.ID));
    for (let k = v.placedLen; k < placed.length; k++) if (v.liveIds.has(placed[k]!.ID)) return false;
    return true;
  }

  /** Feasibility of one node, memoized per computed class unless a constraint reads unique properties. */
  feasible(tg: TaskGroup, node: Node, escaped: boolean): Verdict {
    if (escaped) return checkFeasible(this.job, tg, node);
    let byClass = this.classVerdicts.get(tg.Name);
    if (byClass === undefined) this.classVerdicts.set(tg.Name, (byClass = new Map<string, Verdict>()));
    const cls = computedClass(node);
    let v = byClass.get(cls);
    if (v === undefined) {
      v = checkFeasible(this.job, tg, node);
      byClass.set(cls, v);
    }
    return v;
  }

  /** Per-class feasibility seen so far, for the evaluation's ClassEligibility. */
  classEligibility(): Record<string, boolean> {
    const out: Record<string, boolean> = {};
    for (const byClass of this.classVerdicts.values()) for (const [cls, v] of byClass) out[cls] = (out[cls] ?? false) || v.ok;
    return out;
  }

  /** The group's fixed facts, worked out on its first placement. */
  private group(tg: TaskGroup): GroupPlan {
    let g = this.groups.get(tg.Name);
    if (g !== undefined && g.tg === tg) return g;
    const affinities = [...this.job.Affinities, ...tg.Affinities, ...tg.Tasks.flatMap((t) => t.Affinities)];
    const spreads = [...this.job.Spreads, ...tg.Spreads];
    const escaped = groupEscapesClass(this.job, tg);
    const hasDistinct = [...this.job.Constraints, ...tg.Constraints].some((c) => c.Operand === 'distinct_hosts' || c.Operand === 'distinct_property');
    const wantsDevices = groupWantsDevices(tg);
    g = {
      tg,
      affinities,
      affinityWeight: affinities.reduce((s, a) => s + Math.abs(a.Weight), 0),
      unlimited: affinities.length > 0 || spreads.length > 0 || tg.Tasks.some((t) => t.Resources.Devices.some((d) => d.Affinities.length > 0)),
      escaped,
      ask: taskGroupAsk(tg),
      wantsDevices,
      hasNetworks: tg.Networks.length > 0,
      hasDistinct,
      spreads,
      spread: spreads.length > 0 ? new SpreadScore(tg, spreads) : null,
      shortcut:
        !escaped &&
        tg.Networks.length === 0 &&
        !wantsDevices &&
        !hasDistinct &&
        !affinities.some((a) => targetEscapes(a.LTarget) || targetEscapes(a.RTarget)) &&
        !spreads.some((sp) => targetEscapes(sp.Attribute)),
      verdict: new Int32Array(this.nodes.length).fill(UNKNOWN),
      classKinds: new Map(),
      feasible: null,
      filteredKinds: new Map(),
      index: null,
      staticKey: [],
      existing: null,
    };
    this.groups.set(tg.Name, g);
    return g;
  }

  /** The per-placement state: spread counts brought up to date, distinct rules against the plan so far. */
  private round(tg: TaskGroup, sel: SelectOptions): Round {
    const g = this.group(tg);
    g.spread?.update(
      this.jobAllocs(),
      (a) => this.nodeOf(a),
      (t, n) => this.nodeValue(t, n),
    );
    const penalty = sel.penaltyNodes !== undefined && sel.penaltyNodes.size > 0 ? sel.penaltyNodes : null;
    return { g, distinct: g.hasDistinct ? this.distinctChecks(tg) : null, penalty };
  }

  private keepTop(pos: number, score: number, extras: Extras): void {
    if (this.topN === SCORE_META_KEEP && this.topScore[SCORE_META_KEEP - 1]! >= score) return;
    let i = this.topN < SCORE_META_KEEP ? this.topN++ : SCORE_META_KEEP - 1;
    while (i > 0 && this.topScore[i - 1]! < score) {
      this.topPos[i] = this.topPos[i - 1]!;
      this.topScore[i] = this.topScore[i - 1]!;
      this.topExtras[i] = this.topExtras[i - 1]!;
      i--;
    }
    this.topPos[i] = pos;
    this.topScore[i] = score;
    this.topExtras[i] = extras;
  }

  /** Feasibility of the node at `pos` for the group: FEASIBLE or a filter kind, decided once per evaluation. */
  private verdictAt(g: GroupPlan, pos: number): number {
    const k = g.verdict[pos]!;
    if (k !== UNKNOWN) return k;
    const node = this.nodes[pos]!;
    let kind: number | undefined;
    if (g.escaped) {
      kind = this.kindOf(node, checkFeasible(this.job, g.tg, node));
    } else {
      // Nodes of one computed class share a verdict, and so a filter kind.
      const cls = computedClass(node);
      kind = g.classKinds.get(cls);
      if (kind === undefined) {
        kind = this.kindOf(node, this.feasible(g.tg, node, false));
        g.classKinds.set(cls, kind);
      }
    }
    g.verdict[pos] = kind;
    return kind;
  }

  private kindOf(node: Node, v: Verdict): number {
    return v.ok ? FEASIBLE : this.kindId(node.NodeClass || '<none>', v.reason);
  }

  private kindId(cls: string, reason: string): number {
    const key = `${cls}\u0000${reason}`;
    let id = this.kindIds.get(key);
    if (id === undefined) {
      id = this.kinds.length;
      this.kinds.push({ cls, reason });
      this.kindIds.set(key, id);
      this.kindHits.push(0);
    }
    return id;
  }

  private addFiltered(metric: AllocMetric, kind: number, n: number): void {
    const k = this.kinds[kind]!;
    metric.NodesFiltered += n;
    metric.ClassFiltered[k.cls] = (metric.ClassFiltered[k.cls] ?? 0) + n;
    metric.ConstraintFiltered[k.reason] = (metric.ConstraintFiltered[k.reason] ?? 0) + n;
  }

  /** Pick the best node for one allocation of `tg` among the candidates. */
  select(tg: TaskGroup, metric: AllocMetric, sel: SelectOptions = {}): RankedOption | null {
    const n = this.nodes.length;
    if (n === 0) return null;
    const r = this.round(tg, sel);
    if (this.opts.exhaustive === true || r.g.unlimited) return this.selectAll(r, metric);
    const limit = this.opts.batch ? 2 : Math.max(2, Math.ceil(Math.log2(n)));
    const pos = this.pickedPos;
    const score = this.pickedScore;
    const extras = this.pickedExtras;
    let picked = 0;
    // Skipped options (score <= 0) sit at the end of the scratch arrays, from `limit` on.
    let skipped = 0;
    const hits = this.kindHits;
    let anyFiltered = false;
    for (let seen = 0; seen < n && picked < limit; seen++) {
      const i = this.cursor;
      this.cursor = i + 1 === n ? 0 : i + 1;
      metric.NodesEvaluated++;
      const kind = this.verdictAt(r.g, i);
      if (kind !== FEASIBLE) {
        hits[kind]!++;
        anyFiltered = true;
        continue;
      }
      const s = this.rankAt(r, i, metric, false);
      if (s === null) continue;
      this.keepTop(i, s, this.lastExtras);
      if (s <= SKIP_SCORE_THRESHOLD && skipped < MAX_SKIP) {
        pos[limit + skipped] = i;
        score[limit + skipped] = s;
        extras[limit + skipped] = this.lastExtras;
        skipped++;
        continue;
      }
      pos[picked] = i;
      score[picked] = s;
      extras[picked] = this.lastExtras;
      picked++;
    }
    if (anyFiltered) {
      for (let k = 1; k < hits.length; k++) {
        if (hits[k] === 0) continue;
        this.addFiltered(metric, k, hits[k]!);
        hits[k] = 0;
      }
    }
    // Skipped options are used only when not enough better ones turned up (Nomad's LimitIterator).
    for (let s = 0; s < skipped && picked < limit; s++) {
      pos[picked] = pos[limit + s]!;
      score[picked] = score[limit + s]!;
      extras[picked] = extras[limit + s]!;
      picked++;
    }
    for (let k = 0; k < this.topN; k++) this.recordAt(r, this.topPos[k]!, this.topScore[k]!, this.topExtras[k]!, metric);
    this.topN = 0;
    let best = -1;
    for (let k = 0; k < picked; k++) if (best < 0 || score[k]! > score[best]!) best = k;
    return best < 0 ? null : this.option(r, pos[best]!, extras[best]!);
  }

  /**
   * Every node is scored (affinities, spreads, system jobs): walk only the nodes that passed the
   * static checks, which are decided once per group, and add the filtered ones to the metric in
   * bulk. When nodes can be grouped by everything their score depends on, one node stands for
   * its group. Same outcome as visiting all, at a fraction of the cost on large clusters.
   */
  private selectAll(r: Round, metric: AllocMetric): RankedOption | null {
    const g = r.g;
    const feasible = this.feasibleList(g);
    let filtered = 0;
    for (const [kind, count] of g.filteredKinds) {
      this.addFiltered(metric, kind, count);
      filtered += count;
    }
    metric.NodesEvaluated += filtered;
    let bestPos = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    let bestExtras = NO_EXTRAS;
    // Highest score wins; on a tie the node earlier in the shuffled order, as if visited in turn.
    const consider = (s: number | null, pos: number): void => {
      if (s !== null && (bestPos < 0 || s > bestScore || (s === bestScore && pos < bestPos))) {
        bestPos = pos;
        bestScore = s;
        bestExtras = this.lastExtras;
      }
    };
    if (g.shortcut && r.penalty === null) {
      this.equivalence(g, feasible).forEachGroup((rep, size) => {
        metric.NodesEvaluated += size;
        const s = this.rankAt(r, rep, metric);
        if (s === null) {
          // Identical nodes are exhausted the same way.
          const dim = this.viewAt(rep).fitDim;
          if (dim !== null) for (let k = 1; k < size; k++) exhausted(metric, this.nodes[rep]!, dim);
        }
        consider(s, rep);
      });
    } else {
      for (const pos of feasible) {
        metric.NodesEvaluated++;
        consider(this.rankAt(r, pos, metric), pos);
      }
    }
    return bestPos < 0 ? null : this.option(r, bestPos, bestExtras);
  }

  private feasibleList(g: GroupPlan): number[] {
    if (g.feasible !== null) return g.feasible;
    const out: number[] = [];
    for (let i = 0; i < this.nodes.length; i++) {
      const kind = this.verdictAt(g, i);
      if (kind === FEASIBLE) out.push(i);
      else g.filteredKinds.set(kind, (g.filteredKinds.get(kind) ?? 0) + 1);
    }
    g.feasible = out;
    return out;
  }

  /**
   * The group's equivalence index over its feasible nodes. A key holds what a node's score
   * depends on when `shortcut` holds: computed class (attributes, meta: affinities), capacity,
   * spread values, usage, and how many of the group's allocations the node already runs.
   */
  private equivalence(g: GroupPlan, feasible: number[]): EquivalenceIndex {
    if (g.index !== null) return g.index;
    const keyOf = (pos: number): string => {
      let stat = g.staticKey[pos];
      const node = this.nodes[pos]!;
      if (stat === undefined) {
        const c = nodeCapacity(node);
        stat = [computedClass(node), c.cpu, c.memoryMB, c.diskMB, ...g.spreads.map((sp) => this.nodeValue(sp.Attribute, node) ?? '\u0000')].join('\u0001');
        g.staticKey[pos] = stat;
      }
      const v = this.viewAt(pos);
      return `${stat}\u0002${v.usage.cpu},${v.usage.memoryMB},${v.usage.diskMB},${this.collisions(v.proposed, g.tg)}`;
    };
    const idx = new EquivalenceIndex(this.nodes.length, keyOf);
    for (const pos of feasible) idx.add(pos);
    g.index = idx;
    return idx;
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
    const kind = this.verdictAt(r.g, pos);
    if (kind !== FEASIBLE) {
      this.addFiltered(metric, kind, 1);
      return null;
    }
    return this.rankAt(r, pos, metric) === null ? null : this.option(r, pos, this.lastExtras);
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
    if (this.verdictAt(r.g, pos) !== FEASIBLE) return null;
    const view = this.viewAt(pos);
    const ask = r.g.ask;
    // Ports, devices and distinct rules are not what preemption frees here: only a resource shortage qualifies.
    if (exhaustedDimension(view.capacity, view.usage, ask) === null) return null;
    const free = { cpu: view.capacity.cpu - view.usage.cpu, memoryMB: view.capacity.memoryMB - view.usage.memoryMB, diskMB: view.capacity.diskMB - view.usage.diskMB };
    const victims = selectPreemptions(free, ask, view.live, jobPriority);
    if (victims === null) return null;
    const before = view.live;
    const gone = new Set(victims.map((a) => a.ID));
    this.setLive(pos, view, before.filter((a) => !gone.has(a.ID)));
    if (this.rankAt(r, pos, metric) === null) {
      this.setLive(pos, view, before);
      return null;
    }
    return { option: this.option(r, pos, this.lastExtras), preempted: victims };
  }

  /** Replace what a node runs from before the plan (preemption evicts some of it). */
  private setLive(pos: number, view: NodeView, live: readonly Allocation[]): void {
    view.live = live;
    view.liveShared = false;
    view.sharedLen = 0;
    view.liveUsage = null;
    view.liveIds = null;
    view.placedLen = -1;
    view.dirty = true;
    for (const g of this.groups.values()) g.index?.update(pos);
  }

  /**
   * Live allocations of the job's group per node in the state, counted once per evaluation from
   * the job's allocations: looking at the job of every allocation on every node visited was a
   * cache miss per allocation, the largest cost of scheduling onto a busy cluster.
   */
  private existingOf(g: GroupPlan): Map<string, number> {
    if (g.existing !== null) return g.existing;
    const m = new Map<string, number>();
    for (const a of this.state.allocsByJob(this.job.Namespace, this.job.ID)) {
      if (a.TaskGroup === g.tg.Name && !isAllocTerminal(a)) m.set(a.NodeID, (m.get(a.NodeID) ?? 0) + 1);
    }
    g.existing = m;
    return m;
  }

  /** collisions() over a view, with the count of its shared live part taken from the state's cache. */
  private collisionsOn(node: Node, view: NodeView, g: GroupPlan): number {
    if (view.sharedLen === 0) return this.collisions(view.proposed, g.tg);
    let n = this.existingOf(g).get(node.ID) ?? 0;
    for (let k = view.sharedLen; k < view.proposed.length; k++) {
      const a = view.proposed[k]!;
      if (a.JobID === this.job.ID && a.Namespace === this.job.Namespace && a.TaskGroup === g.tg.Name) n++;
    }
    return n;
  }

  /** How many allocations of this job's group a node holds (Nomad's JobAntiAffinityIterator counts these). */
  private collisions(proposed: readonly Allocation[], tg: TaskGroup): number {
    let n = 0;
    for (const a of proposed) if (a.JobID === this.job.ID && a.Namespace === this.job.Namespace && a.TaskGroup === tg.Name) n++;
    return n;
  }

  /**
   * The stages after feasibility for the node at `pos`: distinct, fit, scores. Returns the
   * normalized score, or null when the node was rejected (and counted). Ports and devices it
   * would get are left in `lastExtras`.
   */
  private rankAt(r: Round, pos: number, metric: AllocMetric, record = true): number | null {
    const g = r.g;
    const node = this.nodes[pos]!;
    const view = this.viewAt(pos);
    if (r.distinct !== null) {
      const fail = r.distinct(node, view.proposed);
      if (fail !== null) {
        recordFiltered(metric, node, fail);
        return null;
      }
    }
    // Cpu/memory/disk and the fit score only change when the node's usage does: reuse them.
    const ask = g.ask;
    const a = view.fitAsk;
    if (a === null || a.cpu !== ask.cpu || a.memoryMB !== ask.memoryMB || a.diskMB !== ask.diskMB) {
      view.fitAsk = ask;
      view.fitDim = exhaustedDimension(view.capacity, view.usage, ask);
      const after = { cpu: view.usage.cpu + ask.cpu, memoryMB: view.usage.memoryMB + ask.memoryMB, diskMB: view.usage.diskMB + ask.diskMB };
      view.fitScore = this.opts.algorithm === 'spread' ? spreadFitScore(view.capacity, after) : binPackScore(view.capacity, after);
    }
    if (view.fitDim !== null) {
      exhausted(metric, node, view.fitDim);
      return null;
    }
    this.lastExtras = NO_EXTRAS;
    if (g.hasNetworks || g.wantsDevices) {
      const extras = this.extras(g.tg, node, view.proposed, g.wantsDevices, metric);
      if (extras === null) return null;
      this.lastExtras = extras;
    }
    const score = this.score(r, pos, view, this.lastExtras, null);
    if (record) this.recordAt(r, pos, score, this.lastExtras, metric);
    return score;
  }

  /** Add a node's scores to the metric's top few, building the record only when it gets in. */
  private recordAt(r: Round, pos: number, score: number, extras: Extras, metric: AllocMetric): void {
    const meta = metric.ScoreMetaData;
    if (meta.length >= SCORE_META_KEEP && meta[meta.length - 1]!.NormScore >= score) return;
    const scores: Record<string, number> = {};
    this.score(r, pos, this.viewAt(pos), extras, scores);
    recordScore(metric, this.nodes[pos]!.ID, scores, score);
  }

  /** Ports, then devices, in Nomad's order; null (and the exhausted dimension counted) when either runs out. */
  private extras(tg: TaskGroup, node: Node, proposed: readonly Allocation[], wantsDevices: boolean, metric: AllocMetric): Extras | null {
    const ports = assignGroupPorts(tg, node, tg.Networks.length > 0 ? usedPorts(node, proposed) : new Set(), () => this.ctx.random());
    if (!ports.ok) {
      exhausted(metric, node, `network: ${ports.reason}`);
      return null;
    }
    if (!wantsDevices) return { ports: ports.value, devices: null, deviceScore: 0 };
    const devs = assignDevices(tg, node, usedDeviceIds(proposed));
    if (!devs.ok) {
      exhausted(metric, node, `devices: ${devs.reason}`);
      return null;
    }
    return { ports: ports.value, devices: devs.byTask, deviceScore: devs.hasAffinities ? devs.score : 0 };
  }

  /**
   * The node's scores and their mean (Nomad's ScoreNormalizationIterator). A score a node did
   * not get is left out of the mean, not counted as 0. With `into`, each is also recorded by
   * name; the sum runs in the same order either way, so both give the same mean.
   */
  private score(r: Round, pos: number, view: NodeView, extras: Extras, into: Record<string, number> | null): number {
    const g = r.g;
    const node = this.nodes[pos]!;
    let sum = 0;
    let count = 0;
    if (extras.deviceScore !== 0) {
      sum += extras.deviceScore;
      count++;
      if (into !== null) into['devices'] = extras.deviceScore;
    }
    sum += view.fitScore;
    count++;
    if (into !== null) into['binpack'] = view.fitScore;
    if (this.opts.exhaustive !== true) {
      // Counted once per view: the limited walk scores the same few nodes again and again.
      if (view.collisionGroup !== g.tg.Name) {
        view.collisionCount = this.collisionsOn(node, view, g);
        view.collisionGroup = g.tg.Name;
      }
      const collisions = view.collisionCount;
      if (collisions > 0) {
        const s = (-1 * (collisions + 1)) / Math.max(1, g.tg.Count);
        sum += s;
        count++;
        if (into !== null) into['job-anti-affinity'] = s;
      }
    }
    if (r.penalty?.has(node.ID) === true) {
      sum += -1;
      count++;
      if (into !== null) into['node-reschedule-penalty'] = -1;
    }
    if (g.affinityWeight > 0) {
      const total = affinityScore(g.affinities, node);
      if (total !== 0) {
        const s = total / g.affinityWeight;
        sum += s;
        count++;
        if (into !== null) into['node-affinity'] = s;
      }
    }
    if (g.spread !== null) {
      const s = g.spread.score(node, (t, n) => this.nodeValue(t, n));
      if (s !== 0) {
        sum += s;
        count++;
        if (into !== null) into['allocation-spread'] = s;
      }
    }
    return sum / count;
  }

  /** The winner as an option the scheduler turns into an allocation: its resources are built here, once. */
  private option(r: Round, pos: number, extras: Extras): RankedOption {
    const tg = r.g.tg;
    const node = this.nodes[pos]!;
    // `place` will be asked about this node next: no need to index every candidate for that.
    this.positions.set(node.ID, pos);
    const tasks: AllocatedResources['Tasks'] = {};
    for (const t of tg.Tasks) {
      tasks[t.Name] = {
        Cpu: { CpuShares: t.Resources.CPU, ReservedCores: [] },
        Memory: { MemoryMB: t.Resources.MemoryMB, MemoryMaxMB: t.Resources.MemoryMaxMB },
        Networks: [],
        Devices: extras.devices?.[t.Name] ?? [],
      };
    }
    const scores: Record<string, number> = {};
    const score = this.score(r, pos, this.viewAt(pos), extras, scores);
    return {
      node,
      resources: { Tasks: tasks, Shared: { DiskMB: tg.EphemeralDisk?.SizeMB ?? 0, Networks: extras.ports.networks, Ports: extras.ports.ports } },
      scores,
      score,
    };
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

  /** A node's value for a `${...}` target, memoized: spread scoring asks for it on every placement. */
  private nodeValue(target: string, node: Node): string | undefined {
    let byNode = this.valueCache.get(target);
    if (byNode === undefined) this.valueCache.set(target, (byNode = new Map<string, string | undefined>()));
    if (byNode.has(node.ID)) return byNode.get(node.ID);
    const v = resolveTarget(target, node);
    byNode.set(node.ID, v);
    return v;
  }

  private nodeOf(a: Allocation): Node | null {
    const pos = this.positions.get(a.NodeID);
    return pos !== undefined ? this.nodes[pos]! : this.state.nodeById(a.NodeID);
  }

  /** distinct_hosts and distinct_property at job and group level; returns the filter reason or null. */
  private distinctChecks(tg: TaskGroup): (node: Node, proposed: readonly Allocation[]) => string | null {
    const checks: Array<(node: Node, proposed: readonly Allocation[]) => string | null> = [];
    const sameJob = (a: Allocation): boolean => a.JobID === this.job.ID && a.Namespace === this.job.Namespace;
    const add = (cs: Constraint[], jobLevel: boolean): void => {
      for (const c of cs) {
        if (c.Operand === 'distinct_hosts') {
          // Nomad: a job-level constraint keeps every alloc of the job apart; a group-level one, the group's.
          checks.push((_node, proposed) => (proposed.some((a) => sameJob(a) && (jobLevel || a.TaskGroup === tg.Name)) ? 'distinct_hosts' : null));
        } else if (c.Operand === 'distinct_property') {
          const limit = c.RTarget.trim() === '' ? 1 : Number.parseInt(c.RTarget, 10);
          const perValue = new Map<string, number>();
          for (const a of this.jobAllocs()) {
            if (!jobLevel && a.TaskGroup !== tg.Name) continue;
            const n = this.nodeOf(a);
            const v = n === null ? undefined : resolveTarget(c.LTarget, n);
            if (v !== undefined) perValue.set(v, (perValue.get(v) ?? 0) + 1);
          }
          const reason = `distinct_property: ${c.LTarget}`;
          checks.push((node) => {
            const v = resolveTarget(c.LTarget, node);
            if (v === undefined) return reason;
            return (perValue.get(v) ?? 0) >= (Number.isFinite(limit) && limit > 0 ? limit : 1) ? reason : null;
          });
        }
      }
    };
    add(this.job.Constraints, true);
    add(tg.Constraints, false);
    return (node, proposed) => {
      for (const ch of checks) {
        const r = ch(node, proposed);
        if (r !== null) return r;
      }
      return null;
    };
  }
}

function affinityScore(affinities: Affinity[], node: Node): number {
  let total = 0;
  for (const a of affinities) if (checkConstraint(a, node)) total += a.Weight;
  return total;
}

export function exhausted(metric: AllocMetric, node: Node, dim: string): void {
  metric.NodesExhausted++;
  const cls = node.NodeClass || '<none>';
  metric.ClassExhausted[cls] = (metric.ClassExhausted[cls] ?? 0) + 1;
  metric.DimensionExhausted[dim] = (metric.DimensionExhausted[dim] ?? 0) + 1;
}

/** Keep only the best few scored nodes in the metric, in order (bounded insertion: cheap at 10,000 nodes). */
function recordScore(metric: AllocMetric, nodeId: string, scores: Record<string, number>, norm: number): void {
  const list = metric.ScoreMetaData;
  if (list.length >= SCORE_META_KEEP && list[list.length - 1]!.NormScore >= norm) return;
  const entry = { NodeID: nodeId, Scores: scores, NormScore: norm };
  let i = list.length;
  while (i > 0 && list[i - 1]!.NormScore < entry.NormScore) i--;
  list.splice(i, 0, entry);
  if (list.length > SCORE_META_KEEP) list.length = SCORE_META_KEEP;
}
