/**
 * Nomad's SpreadIterator for one task group: how far each `spread` attribute value is from its
 * desired share of the group's allocations, as a score in about [-1, 1] per node. Counts are
 * kept incrementally: the job's allocation list only grows while a plan is built, so each
 * placement adds only the allocations that are new since the last one.
 */
import type { Allocation } from '../structs/alloc.js';
import type { Spread } from '../structs/constraint.js';
import type { TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';

/** Spread targets not listed share what is left of 100% under this key (Nomad's implicitTarget). */
const IMPLICIT_TARGET = '*';

/** A node's value for a `${...}` target (memoized by the caller). */
export type ValueOf = (target: string, node: Node) => string | undefined;

interface SpreadSet {
  sp: Spread;
  used: Map<string, number>;
  desired: Map<string, number>;
  /** How many of the job's allocations have been counted. */
  seen: number;
  min: number;
  max: number;
}

export class SpreadScore {
  private readonly sets: SpreadSet[];
  private readonly sumWeights: number;

  constructor(
    private readonly tg: TaskGroup,
    spreads: Spread[],
  ) {
    this.sumWeights = spreads.reduce((s, sp) => s + sp.Weight, 0) || 1;
    this.sets = spreads.map((sp) => {
      const desired = new Map<string, number>();
      let sumPercent = 0;
      for (const t of sp.SpreadTarget) {
        desired.set(t.Value, (t.Percent / 100) * tg.Count);
        sumPercent += t.Percent;
      }
      if (sp.SpreadTarget.length > 0 && sumPercent < 100) desired.set(IMPLICIT_TARGET, ((100 - sumPercent) / 100) * tg.Count);
      return { sp, used: new Map<string, number>(), desired, seen: 0, min: 0, max: 0 };
    });
  }

  /** Count the group's allocations added to `allocs` since the last call (the list only grows). */
  update(allocs: readonly Allocation[], nodeOf: (a: Allocation) => Node | null, valueOf: ValueOf): void {
    for (const set of this.sets) {
      for (; set.seen < allocs.length; set.seen++) {
        const a = allocs[set.seen]!;
        if (a.TaskGroup !== this.tg.Name) continue;
        const n = nodeOf(a);
        const v = n === null ? undefined : valueOf(set.sp.Attribute, n);
        if (v !== undefined) set.used.set(v, (set.used.get(v) ?? 0) + 1);
      }
      set.min = Number.POSITIVE_INFINITY;
      set.max = 0;
      for (const c of set.used.values()) {
        set.min = Math.min(set.min, c);
        set.max = Math.max(set.max, c);
      }
    }
  }

  score(node: Node, valueOf: ValueOf): number {
    let total = 0;
    for (const set of this.sets) {
      const value = valueOf(set.sp.Attribute, node);
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
      total += ((want - count) / want) * (set.sp.Weight / this.sumWeights);
    }
    return total;
  }
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
