/**
 * The stages after feasibility for one node: distinct rules, fit (cpu, memory, disk), ports and
 * devices, then the scores (bin packing, job anti-affinity, reschedule penalty, node affinity,
 * spread, device affinity) and their mean, as Nomad's ScoreNormalizationIterator takes it.
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import type { Affinity } from '../structs/constraint.js';
import type { AllocMetric } from '../structs/eval.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { binPackScore, exhaustedDimension, spreadFitScore } from './bin-pack.js';
import { checkConstraint } from './constraint-check.js';
import { recordFiltered } from './feasibility.js';
import type { GroupPlan, Round } from './group-plan.js';
import type { NodeView, NodeViews } from './node-view.js';
import { assignExtras, NO_EXTRAS, type Extras } from './placement-option.js';
import { exhausted, recordScore, SCORE_META_KEEP } from './placement-metric.js';
import type { SchedulerContext, SchedulerState } from './scheduler-api.js';
import type { ValueOf } from './spread-score.js';
import type { StackOptions } from './stack-options.js';
import type { TargetValues } from './target-values.js';

export class NodeRanker {
  /** Ports/devices of the node ranked last (NO_EXTRAS when the group asks for none). */
  lastExtras: Extras = NO_EXTRAS;
  /** Made once, not per node ranked: port assignment and spread scoring take them as callbacks. */
  private readonly random: () => number;
  private readonly valueOf: ValueOf;

  constructor(
    private readonly state: SchedulerState,
    ctx: SchedulerContext,
    private readonly job: Job,
    /** The stack's candidates, in shuffled order: positions index them. */
    private readonly nodes: readonly Node[],
    private readonly views: NodeViews,
    values: TargetValues,
    private readonly opts: StackOptions,
  ) {
    this.random = () => ctx.random();
    this.valueOf = (t, n) => values.get(t, n);
  }

  /**
   * Rank the node at `pos`: returns the normalized score, or null when the node was rejected
   * (and counted). Ports and devices it would get are left in `lastExtras`.
   */
  rank(r: Round, pos: number, metric: AllocMetric, record = true): number | null {
    const g = r.g;
    const node = this.nodes[pos]!;
    const view = this.views.at(pos);
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
      const extras = assignExtras(g.tg, node, view.proposed, g.wantsDevices, metric, this.random);
      if (extras === null) return null;
      this.lastExtras = extras;
    }
    const score = this.score(r, pos, view, this.lastExtras, null);
    if (record) this.record(r, pos, score, this.lastExtras, metric);
    return score;
  }

  /** Add a node's scores to the metric's top few, building the record only when it gets in. */
  record(r: Round, pos: number, score: number, extras: Extras, metric: AllocMetric): void {
    const meta = metric.ScoreMetaData;
    if (meta.length >= SCORE_META_KEEP && meta[meta.length - 1]!.NormScore >= score) return;
    const scores: Record<string, number> = {};
    this.score(r, pos, this.views.at(pos), extras, scores);
    recordScore(metric, this.nodes[pos]!.ID, scores, score);
  }

  /**
   * The node's scores and their mean (Nomad's ScoreNormalizationIterator). A score a node did
   * not get is left out of the mean, not counted as 0. With `into`, each is also recorded by
   * name; the sum runs in the same order either way, so both give the same mean.
   */
  score(r: Round, pos: number, view: NodeView, extras: Extras, into: Record<string, number> | null): number {
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
      const s = g.spread.score(node, this.valueOf);
      if (s !== 0) {
        sum += s;
        count++;
        if (into !== null) into['allocation-spread'] = s;
      }
    }
    return sum / count;
  }

  /** How many allocations of this job's group a node holds (Nomad's JobAntiAffinityIterator counts these). */
  collisions(proposed: readonly Allocation[], tg: TaskGroup): number {
    let n = 0;
    for (const a of proposed) if (a.JobID === this.job.ID && a.Namespace === this.job.Namespace && a.TaskGroup === tg.Name) n++;
    return n;
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
}

function affinityScore(affinities: Affinity[], node: Node): number {
  let total = 0;
  for (const a of affinities) if (checkConstraint(a, node)) total += a.Weight;
  return total;
}
