/**
 * Choosing a node for one allocation, as Nomad's GenericStack does it, one stage after another:
 * nodes in seeded random order (the cursor carries over between placements of one evaluation)
 * → feasibility (drivers, constraints, devices; cached per computed node class) →
 * distinct_hosts / distinct_property → fit (cpu, memory, disk, ports, devices) → scores
 * (bin packing, job anti-affinity, reschedule penalty, node affinity, spread, device affinity)
 * → normalization (mean of the scores a node got) → limit (a few candidates, skipping poor
 * ones) → the maximum. Every rejection is counted in the AllocMetric users see.
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import type { Affinity, Constraint, Spread } from '../structs/constraint.js';
import type { AllocMetric } from '../structs/eval.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { Plan } from '../structs/plan.js';
import type { AllocatedResources } from '../structs/resources.js';
import { add, binPackScore, exhaustedDimension, nodeCapacity, nodeUsage, spreadFitScore, taskGroupAsk, ZERO, type ResourceVector } from './bin-pack.js';
import { checkConstraint, resolveTarget } from './constraint-check.js';
import { assignDevices, groupWantsDevices, usedDeviceIds } from './devices.js';
import { checkFeasible, recordFiltered, type Verdict } from './feasibility.js';
import { computedClass, groupEscapesClass, targetEscapes } from './node-class.js';
import { assignGroupPorts, usedPorts } from './ports.js';
import type { SchedulerContext, SchedulerState } from './scheduler-api.js';

/** Nomad's LimitIterator settings (stack.go): options scoring at or below 0 are passed over, at most 3 times. */
const SKIP_SCORE_THRESHOLD = 0;
const MAX_SKIP = 3;
/** How many top-scoring nodes the metric keeps (Nomad's maxScoreMetaData / K). */
const SCORE_META_KEEP = 5;
/** Spread targets not listed share what is left of 100% under this key (Nomad's implicitTarget). */
const IMPLICIT_TARGET = '*';

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

/** One spread block's counts for a group, kept up to date as the plan grows. */
interface SpreadSet {
  sp: Spread;
  used: Map<string, number>;
  desired: Map<string, number>;
  /** How many of the job's allocations have been counted. */
  seen: number;
  min: number;
  max: number;
}

interface PristineGroup {
  nodes: Node[];
  /** Index of the first node that may still be untouched. */
  next: number;
  /** How many are still untouched. */
  untouched: number;
}

interface PristineIndex {
  groups: Map<string, PristineGroup>;
  touched: Set<string>;
  touchedList: Node[];
  groupOf: Map<string, PristineGroup>;
}

interface FeasibleSet {
  nodes: Node[];
  /** Position of each node in the shuffled order. */
  pos: Map<string, number>;
  pristine: PristineIndex | null;
  filtered: number;
  classFiltered: Record<string, number>;
  constraintFiltered: Record<string, number>;
}

interface NodeView {
  /** Existing allocations still live after the plan's stops. */
  live: Allocation[];
  /** The plan placed something here since `proposed` was built. */
  dirty: boolean;
  /** How many plan placements `proposed` and `usage` include (-1: not built yet). */
  placedLen: number;
  proposed: Allocation[];
  usage: ResourceVector;
  capacity: ResourceVector;
  /** The last fit computed against `usage`: for which ask, and its outcome. */
  fitAsk: ResourceVector | null;
  fitDim: string | null;
  fitScore: number;
}

interface Prepared {
  affinities: Affinity[];
  affinityWeight: number;
  /** Affinities and spreads need every node scored (Nomad lifts the limit for them). */
  unlimited: boolean;
  escaped: boolean;
  distinct: (node: Node, proposed: Allocation[]) => string | null;
  spread: ((node: Node) => number) | null;
  ask: ResourceVector;
  wantsDevices: boolean;
  spreads: Spread[];
  /** Identical untouched nodes score identically: no ports, devices, distinct or unique-attribute rules. */
  shortcut: boolean;
}

export class PlacementStack {
  private cursor = 0;
  private readonly views = new Map<string, NodeView>();
  /** Live allocations of the job once the plan applies; grows as `place` adds to the plan. */
  private jobList: Allocation[] | null = null;
  private readonly spreadState = new Map<string, SpreadSet[]>();
  private readonly pristineIndexes: PristineIndex[] = [];
  private readonly nodeIndex: Map<string, Node>;
  private readonly valueCache = new Map<string, Map<string, string | undefined>>();
  /** Per group: the candidates that pass drivers/constraints/devices (static within one evaluation). */
  private readonly feasibleByGroup = new Map<string, FeasibleSet>();
  private readonly classVerdicts = new Map<string, Map<string, Verdict>>();

  constructor(
    private readonly state: SchedulerState,
    private readonly ctx: SchedulerContext,
    private readonly plan: Plan,
    private readonly job: Job,
    /** Ready, eligible candidates in the pool and datacenters, already shuffled. */
    readonly nodes: Node[],
    private readonly opts: StackOptions,
  ) {
    this.nodeIndex = new Map(nodes.map((n) => [n.ID, n]));
  }

  /** Add a new or updated allocation to the plan; scoring for later placements sees it. */
  place(alloc: Allocation): void {
    (this.plan.NodeAllocation[alloc.NodeID] ??= []).push(alloc);
    const v = this.views.get(alloc.NodeID);
    if (v !== undefined) v.dirty = true;
    for (const idx of this.pristineIndexes) {
      const g = idx.groupOf.get(alloc.NodeID);
      if (g !== undefined && !idx.touched.has(alloc.NodeID)) {
        idx.touched.add(alloc.NodeID);
        g.untouched--;
        const node = this.nodeIndex.get(alloc.NodeID);
        if (node !== undefined) idx.touchedList.push(node);
      }
    }
    if (this.jobList !== null && alloc.JobID === this.job.ID && alloc.Namespace === this.job.Namespace) this.jobList.push(alloc);
  }

  /** Allocations that will be live on a node once the plan applies: existing minus stopped, plus placed. */
  proposed(node: Node): Allocation[] {
    return this.nodeView(node).proposed;
  }

  /**
   * The node as this plan leaves it, cached: rebuilt only when the plan placed something new
   * there (at 10,000 nodes, re-summing every node's allocations per placement dominates).
   */
  private nodeView(node: Node): NodeView {
    const nodeId = node.ID;
    let v = this.views.get(nodeId);
    if (v !== undefined && !v.dirty) return v;
    const placed = this.plan.NodeAllocation[nodeId];
    const placedLen = placed?.length ?? 0;
    if (v === undefined) {
      const stopping = new Set((this.plan.NodeUpdate[nodeId] ?? []).map((a) => a.ID));
      const live = this.state.allocsByNode(nodeId).filter((a) => !isAllocTerminal(a) && !stopping.has(a.ID));
      v = { live, dirty: true, placedLen: -1, proposed: live, usage: ZERO, capacity: nodeCapacity(node), fitAsk: null, fitDim: null, fitScore: 0 };
      this.views.set(nodeId, v);
    }
    if (v.placedLen !== placedLen) {
      if (placed === undefined || placedLen === 0) v.proposed = v.live;
      else {
        const replaced = new Set(placed.map((a) => a.ID));
        v.proposed = [...v.live.filter((a) => !replaced.has(a.ID)), ...placed];
      }
      v.usage = nodeUsage(v.proposed);
      v.placedLen = placedLen;
      v.fitAsk = null;
    }
    v.dirty = false;
    return v;
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

  /** Everything about a group the per-node stages need, worked out once per placement. */
  private prepare(tg: TaskGroup): Prepared {
    const affinities = [...this.job.Affinities, ...tg.Affinities, ...tg.Tasks.flatMap((t) => t.Affinities)];
    const spreads = [...this.job.Spreads, ...tg.Spreads];
    const escaped = groupEscapesClass(this.job, tg);
    const hasDistinct = [...this.job.Constraints, ...tg.Constraints].some((c) => c.Operand === 'distinct_hosts' || c.Operand === 'distinct_property');
    return {
      affinities,
      affinityWeight: affinities.reduce((s, a) => s + Math.abs(a.Weight), 0),
      unlimited: affinities.length > 0 || spreads.length > 0 || tg.Tasks.some((t) => t.Resources.Devices.some((d) => d.Affinities.length > 0)),
      escaped,
      distinct: this.distinctChecks(tg),
      spread: spreads.length > 0 ? this.spreadScorer(tg, spreads) : null,
      ask: taskGroupAsk(tg),
      wantsDevices: groupWantsDevices(tg),
      spreads,
      shortcut:
        !escaped &&
        tg.Networks.length === 0 &&
        !groupWantsDevices(tg) &&
        !hasDistinct &&
        !affinities.some((a) => targetEscapes(a.LTarget) || targetEscapes(a.RTarget)) &&
        !spreads.some((sp) => targetEscapes(sp.Attribute)),
    };
  }

  /** Pick the best node for one allocation of `tg` among the candidates. */
  select(tg: TaskGroup, metric: AllocMetric, sel: SelectOptions = {}): RankedOption | null {
    const n = this.nodes.length;
    if (n === 0) return null;
    const prep = this.prepare(tg);
    let limit: number;
    if (this.opts.exhaustive === true || prep.unlimited) limit = Number.POSITIVE_INFINITY;
    else if (this.opts.batch) limit = 2;
    else limit = Math.max(2, Math.ceil(Math.log2(n)));

    if (limit === Number.POSITIVE_INFINITY) return this.selectAll(tg, metric, prep, sel);
    const picked: RankedOption[] = [];
    const skipped: RankedOption[] = [];
    for (let seen = 0; seen < n && picked.length < limit; seen++) {
      const node = this.nodes[this.cursor]!;
      this.cursor = (this.cursor + 1) % n;
      const option = this.rank(tg, node, metric, prep, sel);
      if (option === null) continue;
      if (option.score <= SKIP_SCORE_THRESHOLD && skipped.length < MAX_SKIP && limit !== Number.POSITIVE_INFINITY) {
        skipped.push(option);
        continue;
      }
      picked.push(option);
    }
    // Skipped options are used only when not enough better ones turned up (Nomad's LimitIterator).
    for (const o of skipped) if (picked.length < limit) picked.push(o);
    let best: RankedOption | null = null;
    for (const o of picked) if (best === null || o.score > best.score) best = o;
    return best;
  }

  /**
   * Every node is scored (affinities, spreads): walk only the nodes that passed the static
   * checks, which are decided once per group, and add the filtered ones to the metric in bulk.
   * Same outcome as visiting all, at a fraction of the cost on large clusters.
   */
  private selectAll(tg: TaskGroup, metric: AllocMetric, prep: Prepared, sel: SelectOptions): RankedOption | null {
    const f = this.feasibleNodes(tg, prep.escaped);
    metric.NodesEvaluated += f.filtered;
    metric.NodesFiltered += f.filtered;
    for (const [k, v] of Object.entries(f.classFiltered)) metric.ClassFiltered[k] = (metric.ClassFiltered[k] ?? 0) + v;
    for (const [k, v] of Object.entries(f.constraintFiltered)) metric.ConstraintFiltered[k] = (metric.ConstraintFiltered[k] ?? 0) + v;
    let best: RankedOption | null = null;
    let bestPos = Number.POSITIVE_INFINITY;
    // Highest score wins; on a tie the node earlier in the shuffled order, as if visited in turn.
    const consider = (o: RankedOption | null, pos: number): void => {
      if (o !== null && (best === null || o.score > best.score || (o.score === best.score && pos < bestPos))) {
        best = o;
        bestPos = pos;
      }
    };
    if (prep.shortcut && (sel.penaltyNodes === undefined || sel.penaltyNodes.size === 0)) {
      const g = this.pristineGroups(f, prep);
      for (const group of g.groups.values()) {
        while (group.next < group.nodes.length && g.touched.has(group.nodes[group.next]!.ID)) group.next++;
        const rep = group.nodes[group.next];
        if (rep === undefined || group.untouched === 0) continue;
        const others = group.untouched - 1;
        metric.NodesEvaluated += 1 + others;
        const option = this.rankFeasible(tg, rep, metric, prep, sel);
        if (option === null) {
          // Identical nodes are exhausted the same way.
          const dim = this.nodeView(rep).fitDim;
          if (dim !== null) for (let i = 0; i < others; i++) exhausted(metric, rep, dim);
        }
        consider(option, f.pos.get(rep.ID)!);
      }
      for (const node of g.touchedList) {
        metric.NodesEvaluated++;
        consider(this.rankFeasible(tg, node, metric, prep, sel), f.pos.get(node.ID)!);
      }
      return best;
    }
    for (const node of f.nodes) {
      metric.NodesEvaluated++;
      consider(this.rankFeasible(tg, node, metric, prep, sel), f.pos.get(node.ID)!);
    }
    return best;
  }

  /**
   * Feasible nodes that hold no allocation yet, grouped by everything their score depends on
   * (computed class, capacity, spread attribute values): within a group one node stands for
   * all, which keeps spread and affinity placement on empty 10,000-node clusters fast.
   */
  private pristineGroups(f: FeasibleSet, prep: Prepared): PristineIndex {
    if (f.pristine !== null) return f.pristine;
    const idx: PristineIndex = { groups: new Map(), touched: new Set(), touchedList: [], groupOf: new Map() };
    for (const node of f.nodes) {
      if (this.nodeView(node).proposed.length > 0) {
        idx.touched.add(node.ID);
        idx.touchedList.push(node);
        continue;
      }
      const c = nodeCapacity(node);
      const key = [computedClass(node), c.cpu, c.memoryMB, c.diskMB, ...prep.spreads.map((sp) => this.nodeValue(sp.Attribute, node) ?? '\u0000')].join('\u0001');
      let g = idx.groups.get(key);
      if (g === undefined) idx.groups.set(key, (g = { nodes: [], next: 0, untouched: 0 }));
      g.nodes.push(node);
      g.untouched++;
      idx.groupOf.set(node.ID, g);
    }
    f.pristine = idx;
    this.pristineIndexes.push(idx);
    return idx;
  }

  private feasibleNodes(tg: TaskGroup, escaped: boolean): FeasibleSet {
    let f = this.feasibleByGroup.get(tg.Name);
    if (f === undefined) {
      f = { nodes: [], pos: new Map(), filtered: 0, classFiltered: {}, constraintFiltered: {}, pristine: null };
      for (const node of this.nodes) {
        const v = this.feasible(tg, node, escaped);
        if (v.ok) {
          f.pos.set(node.ID, f.nodes.length);
          f.nodes.push(node);
          continue;
        }
        f.filtered++;
        const cls = node.NodeClass || '<none>';
        f.classFiltered[cls] = (f.classFiltered[cls] ?? 0) + 1;
        f.constraintFiltered[v.reason] = (f.constraintFiltered[v.reason] ?? 0) + 1;
      }
      this.feasibleByGroup.set(tg.Name, f);
    }
    return f;
  }

  /**
   * Try one given node (the system scheduler places per node). Returns null when it is
   * infeasible (metric.NodesFiltered grows) or full (metric.NodesExhausted grows).
   */
  selectOn(tg: TaskGroup, node: Node, metric: AllocMetric): RankedOption | null {
    return this.rank(tg, node, metric, this.prepare(tg), {});
  }

  private rank(tg: TaskGroup, node: Node, metric: AllocMetric, prep: Prepared, sel: SelectOptions): RankedOption | null {
    metric.NodesEvaluated++;
    const verdict = this.feasible(tg, node, prep.escaped);
    if (!verdict.ok) {
      recordFiltered(metric, node, verdict.reason);
      return null;
    }
    return this.rankFeasible(tg, node, metric, prep, sel);
  }

  /** The stages after feasibility: distinct, fit, scores. */
  private rankFeasible(tg: TaskGroup, node: Node, metric: AllocMetric, prep: Prepared, sel: SelectOptions): RankedOption | null {
    const view = this.nodeView(node);
    const proposed = view.proposed;
    const distinctFail = prep.distinct(node, proposed);
    if (distinctFail !== null) {
      recordFiltered(metric, node, distinctFail);
      return null;
    }
    const option = this.fit(tg, node, view, prep.ask, prep.wantsDevices, metric);
    if (option === null) return null;
    const scores = option.scores;
    if (this.opts.exhaustive !== true) {
      const collisions = proposed.filter((a) => a.JobID === this.job.ID && a.Namespace === this.job.Namespace && a.TaskGroup === tg.Name).length;
      if (collisions > 0) scores['job-anti-affinity'] = (-1 * (collisions + 1)) / Math.max(1, tg.Count);
    }
    if (sel.penaltyNodes?.has(node.ID) === true) scores['node-reschedule-penalty'] = -1;
    if (prep.affinityWeight > 0) {
      const total = affinityScore(prep.affinities, node);
      if (total !== 0) scores['node-affinity'] = total / prep.affinityWeight;
    }
    if (prep.spread !== null) {
      const s = prep.spread(node);
      if (s !== 0) scores['allocation-spread'] = s;
    }
    const values = Object.values(scores);
    option.score = values.reduce((s, v) => s + v, 0) / values.length;
    recordScore(metric, node.ID, scores, option.score);
    return option;
  }

  /** Resources, ports and devices on one node; null (and the exhausted dimension counted) when it does not fit. */
  private fit(tg: TaskGroup, node: Node, view: NodeView, ask: ResourceVector, wantsDevices: boolean, metric: AllocMetric): RankedOption | null {
    const proposed = view.proposed;
    // Cpu/memory/disk and the fit score only change when the node's usage does: reuse them.
    const a = view.fitAsk;
    if (a === null || a.cpu !== ask.cpu || a.memoryMB !== ask.memoryMB || a.diskMB !== ask.diskMB) {
      view.fitAsk = ask;
      view.fitDim = exhaustedDimension(view.capacity, view.usage, ask);
      const after = add(view.usage, ask);
      view.fitScore = this.opts.algorithm === 'spread' ? spreadFitScore(view.capacity, after) : binPackScore(view.capacity, after);
    }
    if (view.fitDim !== null) {
      exhausted(metric, node, view.fitDim);
      return null;
    }
    const ports = assignGroupPorts(tg, node, tg.Networks.length > 0 ? usedPorts(node, proposed) : new Set(), () => this.ctx.random());
    if (!ports.ok) {
      exhausted(metric, node, `network: ${ports.reason}`);
      return null;
    }
    const tasks: AllocatedResources['Tasks'] = {};
    for (const t of tg.Tasks) {
      tasks[t.Name] = {
        Cpu: { CpuShares: t.Resources.CPU, ReservedCores: [] },
        Memory: { MemoryMB: t.Resources.MemoryMB, MemoryMaxMB: t.Resources.MemoryMaxMB },
        Networks: [],
        Devices: [],
      };
    }
    const scores: Record<string, number> = {};
    if (wantsDevices) {
      const devs = assignDevices(tg, node, usedDeviceIds(proposed));
      if (!devs.ok) {
        exhausted(metric, node, `devices: ${devs.reason}`);
        return null;
      }
      for (const [task, list] of Object.entries(devs.byTask)) tasks[task]!.Devices = list;
      if (devs.hasAffinities && devs.score !== 0) scores['devices'] = devs.score;
    }
    scores['binpack'] = view.fitScore;
    return {
      node,
      resources: { Tasks: tasks, Shared: { DiskMB: tg.EphemeralDisk?.SizeMB ?? 0, Networks: ports.value.networks, Ports: ports.value.ports } },
      scores,
      score: 0,
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
    return this.state.nodeById(a.NodeID);
  }

  /** distinct_hosts and distinct_property at job and group level; returns the filter reason or null. */
  private distinctChecks(tg: TaskGroup): (node: Node, proposed: Allocation[]) => string | null {
    const checks: Array<(node: Node, proposed: Allocation[]) => string | null> = [];
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
            const n = this.nodeOf(a) ?? this.nodes.find((x) => x.ID === a.NodeID) ?? null;
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
    if (checks.length === 0) return () => null;
    return (node, proposed) => {
      for (const ch of checks) {
        const r = ch(node, proposed);
        if (r !== null) return r;
      }
      return null;
    };
  }

  /** Nomad's SpreadIterator for one group: a score in about [-1, 1] per node. */
  private spreadScorer(tg: TaskGroup, spreads: Spread[]): (node: Node) => number {
    const sumWeights = spreads.reduce((s, sp) => s + sp.Weight, 0) || 1;
    let sets = this.spreadState.get(tg.Name);
    if (sets === undefined) {
      sets = spreads.map((sp) => {
        const desired = new Map<string, number>();
        let sumPercent = 0;
        for (const t of sp.SpreadTarget) {
          desired.set(t.Value, (t.Percent / 100) * tg.Count);
          sumPercent += t.Percent;
        }
        if (sp.SpreadTarget.length > 0 && sumPercent < 100) desired.set(IMPLICIT_TARGET, ((100 - sumPercent) / 100) * tg.Count);
        return { sp, used: new Map<string, number>(), desired, seen: 0, min: 0, max: 0 };
      });
      this.spreadState.set(tg.Name, sets);
    }
    // Count only the allocations added since the last placement: the list only grows.
    const allocs = this.jobAllocs();
    for (const set of sets) {
      for (; set.seen < allocs.length; set.seen++) {
        const a = allocs[set.seen]!;
        if (a.TaskGroup !== tg.Name) continue;
        const n = this.nodeOf(a);
        const v = n === null ? undefined : this.nodeValue(set.sp.Attribute, n);
        if (v !== undefined) set.used.set(v, (set.used.get(v) ?? 0) + 1);
      }
      set.min = Number.POSITIVE_INFINITY;
      set.max = 0;
      for (const c of set.used.values()) {
        set.min = Math.min(set.min, c);
        set.max = Math.max(set.max, c);
      }
    }
    const all = sets;
    return (node) => {
      let total = 0;
      for (const set of all) {
        const value = this.nodeValue(set.sp.Attribute, node);
        if (value === undefined) {
          total -= 1;
          continue;
        }
        if (set.desired.size === 0) {
          total += evenSpreadBoost(set, value);
          continue;
        }
        const want = set.desired.get(value) ?? set.desired.get(IMPLICIT_TARGET);
        if (want === undefined || want === 0) {
          total -= 1;
          continue;
        }
        // One more: the placement being scored.
        const count = (set.used.get(value) ?? 0) + 1;
        total += ((want - count) / want) * (set.sp.Weight / sumWeights);
      }
      return total;
    };
  }
}

function affinityScore(affinities: Affinity[], node: Node): number {
  let total = 0;
  for (const a of affinities) if (checkConstraint(a, node)) total += a.Weight;
  return total;
}

/** Nomad's evenSpreadScoreBoost: favour values used least, penalize the most used. */
function evenSpreadBoost(set: SpreadSet, value: string): number {
  if (set.used.size === 0) return 0;
  const current = set.used.get(value) ?? 0;
  const { min, max } = set;
  // A value not used at all is the least used: the strongest boost.
  if (current === 0) return 1;
  if (current !== min) return (min - current) / min;
  if (min === max) return -1;
  return (max - min) / min;
}

function exhausted(metric: AllocMetric, node: Node, dim: string): void {
  metric.NodesExhausted++;
  const cls = node.NodeClass || '<none>';
  metric.ClassExhausted[cls] = (metric.ClassExhausted[cls] ?? 0) + 1;
  metric.DimensionExhausted[dim] = (metric.DimensionExhausted[dim] ?? 0) + 1;
}

/** Keep only the best few scored nodes in the metric, in order (bounded insertion: cheap at 10,000 nodes). */
function recordScore(metric: AllocMetric, nodeId: string, scores: Record<string, number>, norm: number): void {
  const list = metric.ScoreMetaData;
  if (list.length >= SCORE_META_KEEP && list[list.length - 1]!.NormScore >= norm) return;
  const entry = { NodeID: nodeId, Scores: { ...scores }, NormScore: norm };
  let i = list.length;
  while (i > 0 && list[i - 1]!.NormScore < entry.NormScore) i--;
  list.splice(i, 0, entry);
  if (list.length > SCORE_META_KEEP) list.length = SCORE_META_KEEP;
}
