/**
 * Feasibility: may a task group run on a node at all, regardless of load? Each check that
 * rejects a node says why, and the reason is counted in the evaluation's metrics so users
 * learn why a job did not place (Nomad's ConstraintFiltered / ClassFiltered).
 */
import type { Constraint } from '../structs/constraint.js';
import { constraintString } from '../structs/constraint.js';
import type { AllocMetric } from '../structs/eval.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { checkConstraint } from './constraint-check.js';
import { groupWantsDevices, hasDevices, MISSING_DEVICES } from './devices.js';

export type Verdict = { ok: true } | { ok: false; reason: string };

const OK: Verdict = { ok: true };

/** `*` globs, as Nomad matches datacenters. */
export function globMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === value;
  let re = globCache.get(pattern);
  if (re === undefined) {
    re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    // Patterns come from job files: keep the cache bounded.
    if (globCache.size >= 1024) globCache.clear();
    globCache.set(pattern, re);
  }
  return re.test(value);
}

/** Compiled datacenter globs: every candidate node is matched against the same few patterns. */
const globCache = new Map<string, RegExp>();

export function checkDrivers(tg: TaskGroup, node: Node): Verdict {
  for (const task of tg.Tasks) {
    const info = node.Drivers[task.Driver];
    if (!info || !info.Detected || !info.Healthy) return { ok: false, reason: 'missing drivers' };
  }
  return OK;
}

function checkConstraints(constraints: Constraint[], node: Node): Verdict {
  for (const c of constraints) {
    // distinct_hosts / distinct_property depend on other placements, not on the node alone.
    if (c.Operand === 'distinct_hosts' || c.Operand === 'distinct_property') continue;
    if (!checkConstraint(c, node)) return { ok: false, reason: constraintString(c) };
  }
  return OK;
}

/**
 * The per-node checks for one task group, in Nomad's order (drivers, then job, group and task
 * constraints, then devices). Readiness, datacenter and pool are filtered earlier, when candidates are listed.
 */
export function checkFeasible(job: Job, tg: TaskGroup, node: Node): Verdict {
  for (const v of [
    checkDrivers(tg, node),
    checkConstraints(job.Constraints, node),
    checkConstraints(tg.Constraints, node),
    ...tg.Tasks.map((t) => checkConstraints(t.Constraints, node)),
  ]) {
    if (!v.ok) return v;
  }
  if (groupWantsDevices(tg) && !hasDevices(tg, node)) return { ok: false, reason: MISSING_DEVICES };
  return OK;
}

/**
 * Count a rejection into the metric the way Nomad reports it: a node without a class counts in
 * the totals and under its reason, not under a class (Nomad prints no `Class` line for it).
 */
export function recordFiltered(m: AllocMetric, node: Node, reason: string): void {
  m.NodesFiltered++;
  if (node.NodeClass !== '') m.ClassFiltered[node.NodeClass] = (m.ClassFiltered[node.NodeClass] ?? 0) + 1;
  m.ConstraintFiltered[reason] = (m.ConstraintFiltered[reason] ?? 0) + 1;
}
