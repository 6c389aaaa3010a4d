/**
 * The FSM writer's view of the in-memory tables: the latest committed state with this
 * transaction's own writes laid over it, so a command sees what it has just written (an
 * allocation placed, then its job's status recomputed) before anything is committed.
 */
import type { Allocation } from '../../../structs/alloc.js';
import type { Job } from '../../../structs/job.js';
import { jobVersionKey, type IndexChanges, type StateIndex } from './state-index.js';
import type { IndexReads, StoredAlloc } from './state-reader.js';
import { LATEST } from './versioned-map.js';

export function pendingReads(index: StateIndex, pending: IndexChanges): IndexReads {
  const base = index.readsAt(LATEST);
  const jobVersion = (namespace: string, jobId: string, version: number): Job | undefined => {
    const key = jobVersionKey(namespace, jobId, version);
    return pending.jobVersions.has(key) ? (pending.jobVersions.get(key) ?? undefined) : base.jobVersion(namespace, jobId, version);
  };
  /** Committed IDs that still match, plus this transaction's allocations that now match. */
  const overlayIds = (committed: readonly string[], matches: (a: StoredAlloc) => boolean): readonly string[] => {
    if (pending.allocs.size === 0) return committed;
    const out = committed.filter((id) => !pending.allocs.has(id));
    for (const [id, a] of pending.allocs) if (a !== null && matches(a)) out.push(id);
    return out.length === committed.length && out.every((id, i) => id === committed[i]) ? committed : out.sort();
  };
  const reads: IndexReads = {
    alloc: (id) => (pending.allocs.has(id) ? (pending.allocs.get(id) ?? undefined) : base.alloc(id)),
    idsOnNode: (nodeId) => overlayIds(base.idsOnNode(nodeId), (a) => a.NodeID === nodeId),
    allocsOnNode: (nodeId) => {
      const ids = overlayIds(base.idsOnNode(nodeId), (a) => a.NodeID === nodeId);
      if (ids === base.idsOnNode(nodeId) && pending.jobVersions.size === 0) return base.allocsOnNode(nodeId);
      const out: Allocation[] = [];
      for (const id of ids) {
        const stored = reads.alloc(id);
        const a = stored === undefined ? null : reads.hydrate(stored);
        if (a !== null) out.push(a);
      }
      return out;
    },
    idsOfJob: (namespace, jobId) => overlayIds(base.idsOfJob(namespace, jobId), (a) => a.Namespace === namespace && a.JobID === jobId),
    allocList: (prefix) => {
      const out = base.allocList(prefix).filter((a) => !pending.allocs.has(a.ID));
      for (const [id, a] of pending.allocs) if (a !== null && id.startsWith(prefix)) out.push(a);
      return out.sort((x, y) => (x.ID < y.ID ? -1 : x.ID > y.ID ? 1 : 0));
    },
    jobVersion,
    node: (id) => (pending.nodes.has(id) ? (pending.nodes.get(id) ?? undefined) : base.node(id)),
    nodeList: (prefix) => {
      const out = base.nodeList(prefix).filter((n) => !pending.nodes.has(n.ID));
      for (const [id, n] of pending.nodes) if (n !== null && id.startsWith(prefix)) out.push(n);
      return out.sort((x, y) => (x.ID < y.ID ? -1 : x.ID > y.ID ? 1 : 0));
    },
    hydrate: (stored): Allocation | null => {
      // Committed and untouched: the shared, already hydrated object.
      if (!pending.allocs.has(stored.ID) && !pending.jobVersions.has(jobVersionKey(stored.Namespace, stored.JobID, stored.JobVersion))) return base.hydrate(stored);
      const job = jobVersion(stored.Namespace, stored.JobID, stored.JobVersion);
      if (!job) return null;
      const out: Record<string, unknown> = {};
      for (const k in stored) if (k !== 'JobVersion') out[k] = stored[k as keyof StoredAlloc];
      out['Job'] = job;
      return out as unknown as Allocation;
    },
  };
  return reads;
}


