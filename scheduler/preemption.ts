/**
 * Preemption (Nomad's Preemptor, scheduler/preemption.go): when a node lacks cpu, memory or
 * disk for a placement, evict allocations of jobs at least 10 priority levels lower to make
 * room. Lowest priorities go first; within one priority the allocation closest in size to what
 * is still missing is taken (Nomad's basicResourceDistance), so one right-sized allocation is
 * evicted rather than many small ones; a last pass gives back any eviction that turned out
 * not to be needed, highest priority first. Nomad enables it by default for system jobs only.
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import { addInto, allocatedVector, type ResourceVector } from './bin-pack.js';
import type { SchedulerState } from './scheduler-api.js';

/** An allocation may be preempted only by a job this much more important (Nomad's preemption delta). */
export const PREEMPTION_PRIORITY_DELTA = 10;

export function preemptionDescription(allocId: string): string {
  return `Preempted by alloc ID ${allocId}`;
}

/** PreemptionConfig from the scheduler configuration; Nomad's defaults where the state has none. */
export function preemptionEnabled(state: SchedulerState, jobType: string): boolean {
  const c = state.schedulerConfig?.().PreemptionConfig;
  switch (jobType) {
    case 'system':
      return c?.SystemSchedulerEnabled ?? true;
    case 'sysbatch':
      return c?.SysBatchSchedulerEnabled ?? false;
    case 'batch':
      return c?.BatchSchedulerEnabled ?? false;
    case 'service':
      return c?.ServiceSchedulerEnabled ?? false;
    default:
      return false;
  }
}

interface Candidate {
  alloc: Allocation;
  priority: number;
  size: ResourceVector;
}

/**
 * The allocations to evict from a node so that `ask` fits, or null when evicting every
 * eligible one would still not be enough.
 * @param free capacity minus what the plan leaves running on the node (may be negative)
 * @param running the node's live allocations that predate this plan (placements of the plan itself are never evicted)
 */
export function selectPreemptions(free: ResourceVector, ask: ResourceVector, running: readonly Allocation[], jobPriority: number): Allocation[] | null {
  const eligible: Candidate[] = [];
  for (const a of running) {
    if (isAllocTerminal(a)) continue;
    const priority = a.Job.Priority;
    if (jobPriority - priority < PREEMPTION_PRIORITY_DELTA) continue;
    eligible.push({ alloc: a, priority, size: allocatedVector(a.AllocatedResources) });
  }
  // Lowest priority first; a stable order within one priority keeps the choice deterministic.
  eligible.sort((x, y) => x.priority - y.priority || (x.alloc.ID < y.alloc.ID ? -1 : x.alloc.ID > y.alloc.ID ? 1 : 0));

  const available = { ...free };
  const chosen: Candidate[] = [];
  let i = 0;
  while (!fits(available, ask) && i < eligible.length) {
    // Among the allocations of the lowest priority left, the one closest to what is missing.
    const priority = eligible[i]!.priority;
    let end = i;
    while (end < eligible.length && eligible[end]!.priority === priority) end++;
    while (!fits(available, ask) && i < end) {
      const missing = { cpu: ask.cpu - available.cpu, memoryMB: ask.memoryMB - available.memoryMB, diskMB: ask.diskMB - available.diskMB };
      let best = i;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let k = i; k < end; k++) {
        const d = distance(missing, eligible[k]!.size);
        if (d < bestDistance) {
          bestDistance = d;
          best = k;
        }
      }
      const c = eligible[best]!;
      eligible[best] = eligible[i]!;
      eligible[i] = c;
      i++;
      chosen.push(c);
      addInto(available, c.size);
    }
  }
  if (!fits(available, ask)) return null;

  // Give back what is not needed after all, the most important allocations first.
  const keep = [...chosen].sort((x, y) => y.priority - x.priority);
  const result = new Set(chosen);
  for (const c of keep) {
    const without = { cpu: available.cpu - c.size.cpu, memoryMB: available.memoryMB - c.size.memoryMB, diskMB: available.diskMB - c.size.diskMB };
    if (fits(without, ask)) {
      result.delete(c);
      available.cpu = without.cpu;
      available.memoryMB = without.memoryMB;
      available.diskMB = without.diskMB;
    }
  }
  return chosen.filter((c) => result.has(c)).map((c) => c.alloc);
}

function fits(available: ResourceVector, ask: ResourceVector): boolean {
  return available.cpu >= ask.cpu && available.memoryMB >= ask.memoryMB && available.diskMB >= ask.diskMB;
}

/**
 * Nomad's basicResourceDistance: how far an allocation's size is from what is still missing,
 * per dimension relative to the need (dimensions already satisfied do not count).
 */
function distance(missing: ResourceVector, size: ResourceVector): number {
  const coord = (need: number, have: number): number => (need > 0 ? (need - have) / need : 0);
  const c = coord(missing.cpu, size.cpu);
  const m = coord(missing.memoryMB, size.memoryMB);
  const d = coord(missing.diskMB, size.diskMB);
  return Math.sqrt(c * c + m * m + d * d);
}
