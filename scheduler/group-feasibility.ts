/**
 * Feasibility (drivers, constraints, devices) of the candidate nodes for a group, decided once
 * per node and group per evaluation, and once per computed node class unless a constraint
 * reads properties unique to a node.
 */
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { checkFeasible, type Verdict } from './feasibility.js';
import { UNKNOWN, type GroupPlan } from './group-plan.js';
import { computedClass } from './node-class.js';
import { FEASIBLE, type FilterKinds } from './placement-metric.js';

export class GroupFeasibility {
  private readonly classVerdicts = new Map<string, Map<string, Verdict>>();

  constructor(
    private readonly job: Job,
    /** The stack's candidates, in shuffled order: positions index them. */
    private readonly nodes: readonly Node[],
    private readonly kinds: FilterKinds,
    /** Each position's computed class as a number (Candidates.classIds). */
    private readonly classIds: Int32Array,
  ) {}

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

  /** Feasibility of the node at `pos` for the group: FEASIBLE or a filter kind, decided once per evaluation. */
  verdictAt(g: GroupPlan, pos: number): number {
    const k = g.verdict[pos]!;
    if (k !== UNKNOWN) return k;
    const node = this.nodes[pos]!;
    let kind: number | undefined;
    if (g.escaped) {
      kind = this.kinds.of(node, checkFeasible(this.job, g.tg, node));
    } else {
      // Nodes of one computed class share a verdict, and so a filter kind.
      const ci = this.classIds[pos]!;
      kind = g.kindByClassId[ci];
      if (kind === undefined) {
        kind = this.kinds.of(node, this.feasible(g.tg, node, false));
        g.kindByClassId[ci] = kind;
      }
    }
    g.verdict[pos] = kind;
    return kind;
  }

  /** Positions that pass feasibility, ascending; the others are counted per kind in `g.filteredKinds`. */
  feasibleList(g: GroupPlan): number[] {
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
}
