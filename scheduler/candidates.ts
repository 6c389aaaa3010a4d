/**
 * The nodes a job may be placed on at all: in its node pool (`all` means every pool), in one of
 * its datacenters (`*` globs), ready, eligible and not draining. Counted per datacenter for the
 * metric (NodesAvailable) and shuffled with the seeded RNG so equal scores spread out.
 */
import type { Job } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { globMatch } from './feasibility.js';
import { computedClass } from './node-class.js';
import { nodeCapacity, type ResourceVector } from './bin-pack.js';
import type { SchedulerState } from './scheduler-api.js';

export interface Candidates {
  nodes: Node[];
  inPool: number;
  byDc: Record<string, number>;
  /**
   * Each node's computed class as a small number (same order as `nodes`): feasibility is
   * decided per class, and reading it here spares every look at a node a visit to the node
   * object and a string-keyed lookup (cache misses that were a fifth of placing on a busy cluster).
   */
  classIds: Int32Array;
  /** Each node's ID and capacity, in the same order, for the same reason. */
  ids: string[];
  capacities: ResourceVector[];
}

export function inJobScope(job: Job, n: Node): boolean {
  return (job.NodePool === 'all' || n.NodePool === job.NodePool) && inDatacenters(job.Datacenters, n.Datacenter);
}

/**
 * The job's candidates before shuffling, per node list: the state hands out the same frozen
 * list until a node changes, and every evaluation of a busy cluster would otherwise filter
 * thousands of nodes again to get the same answer.
 */
const scoped = new WeakMap<readonly Node[], Map<string, Candidates>>();

function inScope(all: readonly Node[], job: Job): Candidates {
  let byScope = scoped.get(all);
  if (byScope === undefined) scoped.set(all, (byScope = new Map<string, Candidates>()));
  const key = `${job.NodePool}\u0000${job.Datacenters.join('\u0000')}`;
  let c = byScope.get(key);
  if (c !== undefined) return c;
  const byDc: Record<string, number> = {};
  let inPool = 0;
  const nodes: Node[] = [];
  const classes: number[] = [];
  const ids: string[] = [];
  const capacities: ResourceVector[] = [];
  const classNumbers = new Map<string, number>();
  const anyDc = job.Datacenters.includes('*');
  for (const n of all) {
    if (job.NodePool !== 'all' && n.NodePool !== job.NodePool) continue;
    inPool++;
    if (!anyDc && !inDatacenters(job.Datacenters, n.Datacenter)) continue;
    if (n.Status !== 'ready' || n.SchedulingEligibility !== 'eligible' || n.Drain) continue;
    byDc[n.Datacenter] = (byDc[n.Datacenter] ?? 0) + 1;
    nodes.push(n);
    const cls = computedClass(n);
    let id = classNumbers.get(cls);
    if (id === undefined) classNumbers.set(cls, (id = classNumbers.size));
    classes.push(id);
    ids.push(n.ID);
    capacities.push(Object.freeze(nodeCapacity(n)));
  }
  c = { nodes, inPool, byDc, classIds: Int32Array.from(classes), ids, capacities };
  byScope.set(key, c);
  return c;
}

export function readyNodes(state: SchedulerState, job: Job, random: () => number): Candidates {
  const c = inScope(state.nodes(), job);
  const nodes = c.nodes.slice();
  const classIds = c.classIds.slice();
  const ids = c.ids.slice();
  const capacities = c.capacities.slice();
  // Fisher-Yates with a plain swap: this runs over every node on every evaluation. What is
  // known of each node moves with it.
  for (let i = nodes.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    swap(nodes, i, j);
    swap(classIds, i, j);
    swap(ids, i, j);
    swap(capacities, i, j);
  }
  return { nodes, inPool: c.inPool, byDc: { ...c.byDc }, classIds, ids, capacities };
}

function swap<T>(a: { [i: number]: T }, i: number, j: number): void {
  const t = a[i] as T;
  a[i] = a[j] as T;
  a[j] = t;
}

function inDatacenters(patterns: string[], dc: string): boolean {
  for (const p of patterns) if (globMatch(p, dc)) return true;
  return false;
}
