/**
 * The nodes a job may be placed on at all: in its node pool (`all` means every pool), in one of
 * its datacenters (`*` globs), ready, eligible and not draining. Counted per datacenter for the
 * metric (NodesAvailable) and shuffled with the seeded RNG so equal scores spread out.
 */
import type { Job } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { globMatch } from './feasibility.js';
import type { SchedulerState } from './scheduler-api.js';

export interface Candidates {
  nodes: Node[];
  inPool: number;
  byDc: Record<string, number>;
}

export function inJobScope(job: Job, n: Node): boolean {
  return (job.NodePool === 'all' || n.NodePool === job.NodePool) && job.Datacenters.some((dc) => globMatch(dc, n.Datacenter));
}

export function readyNodes(state: SchedulerState, job: Job, random: () => number): Candidates {
  const byDc: Record<string, number> = {};
  let inPool = 0;
  const nodes: Node[] = [];
  for (const n of state.nodes()) {
    if (job.NodePool !== 'all' && n.NodePool !== job.NodePool) continue;
    inPool++;
    if (!job.Datacenters.some((dc) => globMatch(dc, n.Datacenter))) continue;
    if (n.Status !== 'ready' || n.SchedulingEligibility !== 'eligible' || n.Drain) continue;
    byDc[n.Datacenter] = (byDc[n.Datacenter] ?? 0) + 1;
    nodes.push(n);
  }
  for (let i = nodes.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [nodes[i], nodes[j]] = [nodes[j]!, nodes[i]!];
  }
  return { nodes, inPool, byDc };
}
