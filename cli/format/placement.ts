/**
 * Why allocations did not place, worded as Nomad's formatAllocMetrics (command/monitor.go)
 * so users can search the same phrases: "Constraint ... : N nodes excluded by filter",
 * "Dimension "memory" exhausted on N nodes". Map entries are sorted for stable output.
 */
import type { AllocMetric } from '../../structs/eval.js';

function sortedEntries(m: Record<string, number> | null | undefined): Array<[string, number]> {
  return Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function formatAllocMetrics(metrics: AllocMetric, scores: boolean, prefix: string): string[] {
  const out: string[] = [];
  if (metrics.NodesEvaluated === 0) out.push(`${prefix}* No nodes were eligible for evaluation`);
  for (const [dc, available] of sortedEntries(metrics.NodesAvailable)) {
    if (available === 0) out.push(`${prefix}* No nodes are available in datacenter "${dc}"`);
  }
  for (const [cls, n] of sortedEntries(metrics.ClassFiltered)) {
    out.push(`${prefix}* Class "${cls}": ${n} nodes excluded by filter`);
  }
  for (const [cs, n] of sortedEntries(metrics.ConstraintFiltered)) {
    out.push(`${prefix}* Constraint "${cs}": ${n} nodes excluded by filter`);
  }
  if (metrics.NodesExhausted > 0) out.push(`${prefix}* Resources exhausted on ${metrics.NodesExhausted} nodes`);
  for (const [cls, n] of sortedEntries(metrics.ClassExhausted)) {
    out.push(`${prefix}* Class "${cls}" exhausted on ${n} nodes`);
  }
  for (const [dim, n] of sortedEntries(metrics.DimensionExhausted)) {
    out.push(`${prefix}* Dimension "${dim}" exhausted on ${n} nodes`);
  }
  for (const q of metrics.QuotaExhausted ?? []) out.push(`${prefix}* Quota limit hit "${q}"`);
  if (scores) {
    for (const meta of metrics.ScoreMetaData ?? []) {
      out.push(`${prefix}* Score "${meta.NodeID}" = ${meta.NormScore.toFixed(6)}`);
    }
  }
  return out;
}

/** "Task Group "cache" (failed to place 2 allocations):" — CoalescedFailures counts the rest. */
export function failedGroupHeader(group: string, metrics: AllocMetric): string {
  const n = metrics.CoalescedFailures + 1;
  return `Task Group "${group}" (failed to place ${n} allocation${n === 1 ? '' : 's'}):`;
}

/** The failed task groups of an evaluation in name order, each with its reasons. */
export function formatFailedPlacements(failed: Record<string, AllocMetric> | null, prefix = '  '): string[] {
  const out: string[] = [];
  const groups = Object.keys(failed ?? {}).sort();
  groups.forEach((tg, i) => {
    const m = failed?.[tg];
    if (m === undefined) return;
    out.push(failedGroupHeader(tg, m), ...formatAllocMetrics(m, false, prefix));
    if (i !== groups.length - 1) out.push('');
  });
  return out;
}
