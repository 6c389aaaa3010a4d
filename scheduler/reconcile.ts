/**
 * The reconciler: compare what a job wants (its groups and counts) with the allocations that
 * exist, and decide what to place, what to stop and what to update in place. Allocations are
 * named `<job>.<group>[<index>]`; the reconciler keeps indexes 0..count-1 filled.
 */
import { isDeepStrictEqual } from 'node:util';
import { isClientTerminal, type Allocation } from '../structs/alloc.js';
import type { Job, TaskGroup } from '../structs/job.js';

export interface Placement {
  tg: TaskGroup;
  name: string;
  /** The allocation this one replaces (a destructive update), if any. */
  previous: Allocation | null;
}

export interface Stop {
  alloc: Allocation;
  description: string;
  /** The server decides the outcome: the allocation's node is gone. */
  lost?: boolean;
}

export interface Reconciled {
  place: Placement[];
  stop: Stop[];
  /** Allocations whose job version changed without changing what they run: updated in place. */
  inplace: Allocation[];
}

export const ALLOC_NOT_NEEDED = 'alloc not needed due to job update';
export const ALLOC_JOB_STOPPED = 'alloc not needed as job is stopped';
export const ALLOC_UPDATING = 'alloc is being updated due to job update';
export const ALLOC_LOST = 'alloc is lost since its node is down';

export function allocName(jobId: string, group: string, index: number): string {
  return `${jobId}.${group}[${index}]`;
}

export function allocIndex(name: string): number {
  const m = /\[(\d+)\]$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** Does an allocation still count towards its group's desired count? */
function counts(job: Job, a: Allocation): boolean {
  if (a.DesiredStatus !== 'run') return false;
  if (!isClientTerminal(a.ClientStatus)) return true;
  // A batch allocation that finished successfully is done: it is not run again.
  return (job.Type === 'batch' || job.Type === 'sysbatch') && a.ClientStatus === 'complete';
}

function groupChanged(a: Allocation, tg: TaskGroup): boolean {
  const old = a.Job.TaskGroups.find((g) => g.Name === tg.Name);
  if (!old) return true;
  // Count changes are handled by adding/removing allocations, not by replacing them.
  return !isDeepStrictEqual({ ...old, Count: 0 }, { ...tg, Count: 0 });
}

/**
 * @param onDownNode tells whether an allocation's node is down (or gone): such allocations
 *   are marked lost and replaced elsewhere.
 */
export function reconcile(job: Job | null, allAllocs: Allocation[], onDownNode: (a: Allocation) => boolean = () => false): Reconciled {
  const out: Reconciled = { place: [], stop: [], inplace: [] };
  const lost = new Set<string>();
  for (const a of allAllocs) {
    if (a.DesiredStatus === 'run' && !isClientTerminal(a.ClientStatus) && onDownNode(a)) {
      lost.add(a.ID);
      out.stop.push({ alloc: a, description: ALLOC_LOST, lost: true });
    }
  }
  const allocs = allAllocs.filter((a) => !lost.has(a.ID));
  const running = allocs.filter((a) => a.DesiredStatus === 'run' && !isClientTerminal(a.ClientStatus));
  if (job === null || job.Stop) {
    for (const a of running) out.stop.push({ alloc: a, description: ALLOC_JOB_STOPPED });
    return out;
  }
  const groups = new Map(job.TaskGroups.map((tg) => [tg.Name, tg]));
  for (const a of running) {
    if (!groups.has(a.TaskGroup)) out.stop.push({ alloc: a, description: ALLOC_NOT_NEEDED });
  }
  for (const tg of job.TaskGroups) {
    const live = allocs.filter((a) => a.TaskGroup === tg.Name && counts(job, a)).sort((x, y) => allocIndex(x.Name) - allocIndex(y.Name));
    const byIndex = new Map<number, Allocation>();
    for (const a of live) {
      const i = allocIndex(a.Name);
      if (i < 0 || i >= tg.Count || byIndex.has(i)) {
        if (!isClientTerminal(a.ClientStatus)) out.stop.push({ alloc: a, description: ALLOC_NOT_NEEDED });
        continue;
      }
      byIndex.set(i, a);
    }
    const lostByName = new Map(allAllocs.filter((a) => lost.has(a.ID) && a.TaskGroup === tg.Name).map((a) => [a.Name, a]));
    for (let i = 0; i < tg.Count; i++) {
      const a = byIndex.get(i);
      if (!a) {
        const name = allocName(job.ID, tg.Name, i);
        out.place.push({ tg, name, previous: lostByName.get(name) ?? null });
        continue;
      }
      if (isClientTerminal(a.ClientStatus) || a.Job.JobModifyIndex === job.JobModifyIndex) continue;
      if (groupChanged(a, tg)) {
        out.stop.push({ alloc: a, description: ALLOC_UPDATING });
        out.place.push({ tg, name: a.Name, previous: a });
      } else {
        out.inplace.push(a);
      }
    }
  }
  return out;
}
