/** distinct_hosts and distinct_property, at job and group level, checked against the plan as it grows. */
import type { Allocation } from '../structs/alloc.js';
import type { Constraint } from '../structs/constraint.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { resolveTarget } from './constraint-check.js';

export type DistinctCheck = (node: Node, proposed: readonly Allocation[]) => string | null;

/**
 * The group's distinct rules as one check that returns the filter reason or null. `jobAllocs`
 * (the job's live allocations once the plan applies) is asked for only when a distinct_property
 * rule needs it; `nodeOf` finds the node an allocation runs on.
 */
export function distinctChecks(job: Job, tg: TaskGroup, jobAllocs: () => readonly Allocation[], nodeOf: (a: Allocation) => Node | null): DistinctCheck {
  const checks: DistinctCheck[] = [];
  const sameJob = (a: Allocation): boolean => a.JobID === job.ID && a.Namespace === job.Namespace;
  const add = (cs: Constraint[], jobLevel: boolean): void => {
    for (const c of cs) {
      if (c.Operand === 'distinct_hosts') {
        // Nomad: a job-level constraint keeps every alloc of the job apart; a group-level one, the group's.
        checks.push((_node, proposed) => (proposed.some((a) => sameJob(a) && (jobLevel || a.TaskGroup === tg.Name)) ? 'distinct_hosts' : null));
      } else if (c.Operand === 'distinct_property') {
        const limit = c.RTarget.trim() === '' ? 1 : Number.parseInt(c.RTarget, 10);
        const perValue = new Map<string, number>();
        for (const a of jobAllocs()) {
          if (!jobLevel && a.TaskGroup !== tg.Name) continue;
          const n = nodeOf(a);
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
  add(job.Constraints, true);
  add(tg.Constraints, false);
  return (node, proposed) => {
    for (const ch of checks) {
      const r = ch(node, proposed);
      if (r !== null) return r;
    }
    return null;
  };
}
