/**
 * What a placement records in the AllocMetric users see: nodes filtered (counted per filter
 * kind, a node class and reason pair), nodes exhausted and on which dimension, and the scores
 * of the best few nodes.
 */
import type { AllocMetric } from '../structs/eval.js';
import type { Node } from '../structs/node.js';
import type { Verdict } from './feasibility.js';

/** How many top-scoring nodes the metric keeps (Nomad's maxScoreMetaData / K). */
export const SCORE_META_KEEP = 5;
/** The filter kind of a node that passes feasibility; real kinds are numbered from 1. */
export const FEASIBLE = 0;

/** As Nomad counts it: a node without a class is exhausted under no class. */
export function exhausted(metric: AllocMetric, node: Node, dim: string): void {
  metric.NodesExhausted++;
  if (node.NodeClass !== '') metric.ClassExhausted[node.NodeClass] = (metric.ClassExhausted[node.NodeClass] ?? 0) + 1;
  metric.DimensionExhausted[dim] = (metric.DimensionExhausted[dim] ?? 0) + 1;
}

/** Keep only the best few scored nodes in the metric, in order (bounded insertion: cheap at 10,000 nodes). */
export function recordScore(metric: AllocMetric, nodeId: string, scores: Record<string, number>, norm: number): void {
  const list = metric.ScoreMetaData;
  if (list.length >= SCORE_META_KEEP && list[list.length - 1]!.NormScore >= norm) return;
  const entry = { NodeID: nodeId, Scores: scores, NormScore: norm };
  let i = list.length;
  while (i > 0 && list[i - 1]!.NormScore < entry.NormScore) i--;
  list.splice(i, 0, entry);
  if (list.length > SCORE_META_KEEP) list.length = SCORE_META_KEEP;
}

/**
 * Filter kinds: (node class, reason) pairs, numbered from 1, so that a node's feasibility is
 * one small integer and a walk counts rejections in an array rather than in the metric's maps.
 */
export class FilterKinds {
  private readonly kinds: Array<{ cls: string; reason: string }> = [{ cls: '', reason: '' }];
  private readonly ids = new Map<string, number>();
  /** Filtered nodes per kind during one limited selection, flushed into its metric at the end. */
  readonly hits: number[] = [0];

  of(node: Node, v: Verdict): number {
    return v.ok ? FEASIBLE : this.id(node.NodeClass, v.reason);
  }

  id(cls: string, reason: string): number {
    const key = `${cls}\u0000${reason}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.kinds.length;
      this.kinds.push({ cls, reason });
      this.ids.set(key, id);
      this.hits.push(0);
    }
    return id;
  }

  /** Count `n` nodes filtered for `kind` in the metric. */
  add(metric: AllocMetric, kind: number, n: number): void {
    const k = this.kinds[kind]!;
    metric.NodesFiltered += n;
    if (k.cls !== '') metric.ClassFiltered[k.cls] = (metric.ClassFiltered[k.cls] ?? 0) + n;
    metric.ConstraintFiltered[k.reason] = (metric.ConstraintFiltered[k.reason] ?? 0) + n;
  }

  /** Move the counts in `hits` into the metric and clear them. */
  flushHits(metric: AllocMetric): void {
    const hits = this.hits;
    for (let k = 1; k < hits.length; k++) {
      if (hits[k] === 0) continue;
      this.add(metric, k, hits[k]!);
      hits[k] = 0;
    }
  }
}

/**
 * The best few nodes of one limited selection, best first (ties in visit order): recorded in
 * the metric when the selection ends, so only the records that stay are built.
 */
export class TopScores<E> {
  readonly pos: number[] = [];
  readonly score: number[] = [];
  readonly extras: E[] = [];
  n = 0;

  keep(pos: number, score: number, extras: E): void {
    if (this.n === SCORE_META_KEEP && this.score[SCORE_META_KEEP - 1]! >= score) return;
    let i = this.n < SCORE_META_KEEP ? this.n++ : SCORE_META_KEEP - 1;
    while (i > 0 && this.score[i - 1]! < score) {
      this.pos[i] = this.pos[i - 1]!;
      this.score[i] = this.score[i - 1]!;
      this.extras[i] = this.extras[i - 1]!;
      i--;
    }
    this.pos[i] = pos;
    this.score[i] = score;
    this.extras[i] = extras;
  }
}
