/**
 * The selection when every node is scored (affinities, spreads, system jobs): walk only the nodes
 * that passed the static checks, which are decided once per group, and add the filtered ones to
 * the metric in bulk. When nodes can be grouped by everything their score depends on, one node
 * stands for its group. Same outcome as visiting all, at a fraction of the cost on large clusters.
 */
import type { AllocMetric } from '../structs/eval.js';
import type { Node } from '../structs/node.js';
import { nodeCapacity } from './bin-pack.js';
import { EquivalenceIndex } from './equivalence-index.js';
import type { GroupFeasibility } from './group-feasibility.js';
import type { GroupPlan, Round } from './group-plan.js';
import { computedClass } from './node-class.js';
import type { NodeRanker } from './node-rank.js';
import type { NodeViews } from './node-view.js';
import { NO_EXTRAS, type Extras } from './placement-option.js';
import { exhausted, type FilterKinds } from './placement-metric.js';
import type { TargetValues } from './target-values.js';

export class ExhaustiveWalk {
  /** Ports/devices of the node the last walk chose. */
  bestExtras: Extras = NO_EXTRAS;

  constructor(
    /** The stack's candidates, in shuffled order: positions index them. */
    private readonly nodes: readonly Node[],
    private readonly views: NodeViews,
    private readonly values: TargetValues,
    private readonly feasibility: GroupFeasibility,
    private readonly kinds: FilterKinds,
    private readonly ranker: NodeRanker,
  ) {}

  /** The position of the best node (its ports and devices in `bestExtras`), or -1 when none fits. */
  select(r: Round, metric: AllocMetric): number {
    const g = r.g;
    const feasible = this.feasibility.feasibleList(g);
    let filtered = 0;
    for (const [kind, count] of g.filteredKinds) {
      this.kinds.add(metric, kind, count);
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
        bestExtras = this.ranker.lastExtras;
      }
    };
    if (g.shortcut && r.penalty === null) {
      this.equivalence(g, feasible).forEachGroup((rep, size) => {
        metric.NodesEvaluated += size;
        const s = this.ranker.rank(r, rep, metric);
        if (s === null) {
          // Identical nodes are exhausted the same way.
          const dim = this.views.at(rep).fitDim;
          if (dim !== null) for (let k = 1; k < size; k++) exhausted(metric, this.nodes[rep]!, dim);
        }
        consider(s, rep);
      });
    } else {
      for (const pos of feasible) {
        metric.NodesEvaluated++;
        consider(this.ranker.rank(r, pos, metric), pos);
      }
    }
    this.bestExtras = bestExtras;
    return bestPos;
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
        stat = [computedClass(node), c.cpu, c.memoryMB, c.diskMB, ...g.spreads.map((sp) => this.values.get(sp.Attribute, node) ?? '\u0000')].join('\u0001');
        g.staticKey[pos] = stat;
      }
      const v = this.views.at(pos);
      return `${stat}\u0002${v.usage.cpu},${v.usage.memoryMB},${v.usage.diskMB},${this.ranker.collisions(v.proposed, g.tg)}`;
    };
    const idx = new EquivalenceIndex(this.nodes.length, keyOf);
    for (const pos of feasible) idx.add(pos);
    g.index = idx;
    return idx;
  }
}
