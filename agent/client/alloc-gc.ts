/**
 * Which terminal allocations a client removes (their directory and their local state), by
 * Nomad's client GC rules (agent config `client { gc_max_allocs, gc_disk_usage_threshold }`):
 * when the client tracks more than gc_max_allocs allocations, or the data dir's disk is fuller
 * than gc_disk_usage_threshold percent, terminal allocations go, oldest finished first, until
 * the condition clears. Running allocations are never collected.
 */
import { statfs } from 'node:fs/promises';

export interface GcPolicy {
  /** Nomad's default: 50. */
  maxAllocs: number;
  /** Percent of the disk in use above which terminal allocations are removed. Nomad's default: 80. */
  diskUsageThreshold: number;
}

export const DEFAULT_GC_POLICY: GcPolicy = { maxAllocs: 50, diskUsageThreshold: 80 };

export interface GcCandidate {
  id: string;
  /** When it finished, ms since the epoch. */
  finishedAt: number;
}

/** Used percentage of the filesystem holding `path`; null when it cannot be read. */
export async function diskUsagePercent(path: string): Promise<number | null> {
  const s = await statfs(path).catch(() => null);
  if (s === null || s.blocks === 0) return null;
  return ((s.blocks - s.bfree) / s.blocks) * 100;
}

/**
 * Collects terminal allocations one at a time, oldest first, while the client tracks too many
 * or the disk is too full (re-measured after each removal). Returns the IDs it removed.
 */
export async function collectTerminalAllocs(
  terminal: GcCandidate[],
  trackedCount: number,
  policy: GcPolicy,
  diskUsage: () => Promise<number | null>,
  remove: (id: string) => Promise<void>,
): Promise<string[]> {
  const removed: string[] = [];
  let tracked = trackedCount;
  for (const c of [...terminal].sort((a, b) => a.finishedAt - b.finishedAt)) {
    const tooMany = tracked > policy.maxAllocs;
    const usage = tooMany ? null : await diskUsage();
    if (!tooMany && (usage === null || usage <= policy.diskUsageThreshold)) break;
    await remove(c.id);
    removed.push(c.id);
    tracked--;
  }
  return removed;
}
