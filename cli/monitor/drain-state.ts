/**
 * What the node drain monitor prints, as a pure diff between two looks at a draining node
 * and its allocations. The messages are Nomad's (api.Nodes().MonitorDrain), so people and
 * scripts recognise them: "Alloc "..." marked for migration", "Alloc "..." draining",
 * "Alloc "..." status running -> complete", "All allocations on node "..." have stopped".
 */
import type { AllocClientStatus, Allocation } from '../../structs/alloc.js';
import { isClientTerminal } from '../../structs/alloc.js';

export interface DrainAllocView {
  migrate: boolean;
  desired: string;
  client: AllocClientStatus;
  system: boolean;
}

export interface DrainView {
  /** Whether the node still has a drain strategy. */
  draining: boolean;
  allocs: Map<string, DrainAllocView>;
}

export function drainView(draining: boolean, allocs: readonly Allocation[]): DrainView {
  const m = new Map<string, DrainAllocView>();
  for (const a of allocs) {
    m.set(a.ID, {
      migrate: a.DesiredTransition?.Migrate === true,
      desired: a.DesiredStatus,
      client: a.ClientStatus,
      system: a.Job?.Type === 'system' || a.Job?.Type === 'sysbatch',
    });
  }
  return { draining, allocs: m };
}

/** Whether every allocation the drain moves off the node has stopped. */
export function allStopped(v: DrainView, ignoreSystem: boolean): boolean {
  for (const a of v.allocs.values()) {
    if (ignoreSystem && a.system) continue;
    if (!isClientTerminal(a.client)) return false;
  }
  return true;
}

/** Lines for what changed from `prev` (null on the first look) to `next`. */
export function drainChangeLines(nodeId: string, prev: DrainView | null, next: DrainView, ignoreSystem: boolean): string[] {
  const lines: string[] = [];
  for (const [id, a] of next.allocs) {
    const before = prev?.allocs.get(id);
    // Allocations that were already done before we looked are not part of the story.
    if (before === undefined && prev === null && isClientTerminal(a.client)) continue;
    if (a.migrate && before?.migrate !== true) lines.push(`Alloc "${id}" marked for migration`);
    if (a.desired !== 'run' && (before === undefined || before.desired === 'run')) lines.push(`Alloc "${id}" draining`);
    if (before !== undefined && before.client !== a.client) lines.push(`Alloc "${id}" status ${before.client} -> ${a.client}`);
  }
  if (prev !== null && prev.draining && !next.draining) lines.push(`Node "${nodeId}" has marked all allocations for migration`);
  if (!next.draining && allStopped(next, ignoreSystem) && (prev === null || prev.draining || !allStopped(prev, ignoreSystem))) {
    lines.push(`All allocations on node "${nodeId}" have stopped`);
  }
  return lines;
}
