/**
 * The hot tables in memory: every allocation (by ID, node and job), every job version and every
 * node, decoded once and versioned per commit so each snapshot reads exactly what its LMDB read
 * transaction holds.
 *
 * Why: a scheduler looks at the allocations of every candidate node, and the plan applier at
 * those of every node in a plan. Reading them from LMDB meant a lookup and a msgpack decode per
 * allocation per look, which (with the garbage it made) was most of the cost of placing work.
 * LMDB stays the durable copy; this index is rebuilt from it when the store opens or restores.
 *
 * Everything here is shared by every reader. The objects (allocations, jobs, nodes) are frozen:
 * a caller that tries to change one fails loudly instead of corrupting the state others see.
 * The index's own lists (of IDs, of a node's allocations) are handed out as readonly arrays
 * but not frozen, because V8 copies and iterates frozen arrays on slow paths (measured on a
 * 140-element list: slice 4 µs instead of 80 ns, a for-of 900 ns instead of 220 ns), and
 * schedulers walk these lists on every placement.
 */
import type { Allocation } from '../../../structs/alloc.js';
import type { Job } from '../../../structs/job.js';
import type { Node } from '../../../structs/node.js';
import type { IndexReads, StoredAlloc } from './state-reader.js';
import { isAllocTerminal } from '../../../structs/alloc.js';
import { addInto, allocatedVector, type ResourceVector } from '../../../scheduler/bin-pack.js';
import { knownLiveAllocs, primeLiveAllocs } from '../../../scheduler/live-allocs.js';
import { LATEST, VersionedMap } from './versioned-map.js';

const NONE: readonly string[] = Object.freeze([]);
const NO_ALLOCS: readonly Allocation[] = Object.freeze([]);
/** The node list's single key in its VersionedMap. */
const ALL = '';

export function jobKey(namespace: string, jobId: string): string {
  return `${namespace}\u0000${jobId}`;
}

export function jobVersionKey(namespace: string, jobId: string, version: number): string {
  return `${namespace}\u0000${jobId}\u0000${version}`;
}

/** One commit's writes to the indexed tables (`null`: deleted). */
export interface IndexChanges {
  allocs: Map<string, StoredAlloc | null>;
  /** Keyed by jobVersionKey. */
  jobVersions: Map<string, Job | null>;
  nodes: Map<string, Node | null>;
}

export function hasIndexChanges(c: IndexChanges): boolean {
  return c.allocs.size > 0 || c.jobVersions.size > 0 || c.nodes.size > 0;
}

export class StateIndex {
  private readonly allocById = new VersionedMap<StoredAlloc>();
  private readonly allocsByNode = new VersionedMap<readonly string[]>();
  private readonly allocsByJob = new VersionedMap<readonly string[]>();
  private readonly jobVersions = new VersionedMap<Job>();
  private readonly nodeById = new VersionedMap<Node>();
  /** Node IDs, sorted, under the single key ALL. */
  private readonly nodeIds = new VersionedMap<readonly string[]>();
  /**
   * Allocations with their job attached, shared across readers: rebuilt only when the stored
   * allocation or the job version it runs changes.
   */
  private readonly hydrated = new WeakMap<StoredAlloc, { alloc: Allocation; at: number }>();
  /** The newest commit applied. */
  private latestSeq = 0;
  /**
   * The last commit that changed any job version. Job versions rarely change, so a hydrated
   * allocation checked at or after it is still right for any reader at or after it, without
   * looking its job version up again.
   */
  private jobVersionsChangedAt = 0;
  /**
   * Each node's allocations, hydrated and frozen. The array stays the same object until
   * something on the node changes, so schedulers can cache what they derive from it (the
   * node's usage) across evaluations.
   */
  private readonly nodeAllocs = new VersionedMap<readonly Allocation[]>();
  /** The last commit that changed any node; readers at or after it share `nodeListCache`. */
  private nodesChangedAt = 0;
  private nodeListCache: readonly Node[] | null = null;

  static load(c: IndexChanges, seq: number): StateIndex {
    const idx = new StateIndex();
    idx.apply(c, seq, seq);
    return idx;
  }

  alloc(id: string, at: number): StoredAlloc | undefined {
    return this.allocById.get(id, at);
  }

  /** IDs of a node's allocations, sorted (the order LMDB's key index gives). */
  idsOnNode(nodeId: string, at: number): readonly string[] {
    return this.allocsByNode.get(nodeId, at) ?? NONE;
  }

  idsOfJob(namespace: string, jobId: string, at: number): readonly string[] {
    return this.allocsByJob.get(jobKey(namespace, jobId), at) ?? NONE;
  }

  allocsOnNode(nodeId: string, at: number): readonly Allocation[] {
    return this.nodeAllocs.get(nodeId, at) ?? NO_ALLOCS;
  }

  /** Allocations whose ID starts with `prefix`, sorted by ID. */
  allocList(prefix: string, at: number): StoredAlloc[] {
    const out: StoredAlloc[] = [];
    for (const [id, a] of this.allocById.entries(at)) if (id.startsWith(prefix)) out.push(a);
    return out.sort((x, y) => (x.ID < y.ID ? -1 : x.ID > y.ID ? 1 : 0));
  }

  jobVersion(namespace: string, jobId: string, version: number, at: number): Job | undefined {
    return this.jobVersions.get(jobVersionKey(namespace, jobId, version), at);
  }

  node(id: string, at: number): Node | undefined {
    return this.nodeById.get(id, at);
  }

  /** Nodes whose ID starts with `prefix`, sorted by ID. */
  nodeList(prefix: string, at: number): readonly Node[] {
    if (prefix === '' && (at === LATEST || at >= this.nodesChangedAt)) return this.allNodes(at);
    const out: Node[] = [];
    for (const id of this.nodeIds.get(ALL, at) ?? NONE) {
      if (!id.startsWith(prefix)) continue;
      const n = this.nodeById.get(id, at);
      if (n) out.push(n);
    }
    return out;
  }

  /**
   * Every node, as one frozen array shared by every reader at or after the last node change:
   * each evaluation walks the whole node list, and rebuilding it per evaluation (a map lookup
   * per node) cost more than scoring the few nodes the evaluation then looks at.
   */
  private allNodes(at: number): readonly Node[] {
    if (this.nodeListCache === null) {
      const out: Node[] = [];
      for (const id of this.nodeIds.get(ALL, at) ?? NONE) {
        const n = this.nodeById.get(id, at);
        if (n) out.push(n);
      }
      this.nodeListCache = out;
    }
    return this.nodeListCache;
  }

  /** Everything a reader pinned at commit `at` (LATEST: the newest) reads from here. */
  readsAt(at: number): IndexReads {
    return {
      alloc: (id) => this.alloc(id, at),
      idsOnNode: (nodeId) => this.idsOnNode(nodeId, at),
      allocsOnNode: (nodeId) => this.allocsOnNode(nodeId, at),
      idsOfJob: (namespace, jobId) => this.idsOfJob(namespace, jobId, at),
      allocList: (prefix) => this.allocList(prefix, at),
      jobVersion: (namespace, jobId, version) => this.jobVersion(namespace, jobId, version, at),
      node: (id) => this.node(id, at),
      nodeList: (prefix) => this.nodeList(prefix, at),
      hydrate: (stored) => this.hydrate(stored, at),
    };
  }

  /** The allocation with its job version attached (frozen, shared); null when that version is missing. */
  hydrate(stored: StoredAlloc, at: number): Allocation | null {
    const seq = at === LATEST ? this.latestSeq : at;
    const cached = this.hydrated.get(stored);
    if (cached !== undefined && cached.at >= this.jobVersionsChangedAt && seq >= this.jobVersionsChangedAt) return cached.alloc;
    const job = this.jobVersion(stored.Namespace, stored.JobID, stored.JobVersion, at);
    if (!job) return null;
    if (cached?.alloc.Job === job) {
      cached.at = Math.max(cached.at, seq);
      return cached.alloc;
    }
    const alloc = withJob(stored, job);
    this.hydrated.set(stored, { alloc, at: seq });
    return alloc;
  }

  /**
   * Apply one commit. Secondary indexes are rebuilt once per touched node and job, not once per
   * allocation: a plan writes many allocations of one job.
   */
  apply(c: IndexChanges, seq: number, horizon: number): void {
    const nodeEdits = new Map<string, Edit>();
    const jobEdits = new Map<string, Edit>();
    for (const [id, next] of c.allocs) {
      const prev = this.allocById.get(id, LATEST);
      if (prev !== undefined) {
        edit(nodeEdits, prev.NodeID).remove.add(id);
        edit(jobEdits, jobKey(prev.Namespace, prev.JobID)).remove.add(id);
      }
      if (next !== null) {
        edit(nodeEdits, next.NodeID).add.add(id);
        edit(jobEdits, jobKey(next.Namespace, next.JobID)).add.add(id);
      }
      // The writer built `next` for this commit alone (StateWriter.putAlloc, or decoded on load): frozen as it is.
      this.allocById.set(id, next === null ? undefined : deepFreeze(next), seq, horizon);
    }
    const before = new Map<string, readonly string[]>();
    for (const nodeId of nodeEdits.keys()) before.set(nodeId, this.idsOnNode(nodeId, LATEST));
    // Each touched node's ID list is edited with its allocation list (refreshNodeAllocs).
    applyEdits(this.allocsByJob, jobEdits, seq, horizon);
    for (const [key, job] of c.jobVersions) this.jobVersions.set(key, job === null ? undefined : frozenCopy(job), seq, horizon);
    if (c.jobVersions.size > 0) this.jobVersionsChangedAt = seq;
    this.latestSeq = seq;
    this.refreshNodeAllocs(c, nodeEdits, before, seq, horizon);
    const nodeListEdit: Edit = { add: new Set(), remove: new Set() };
    for (const [id, node] of c.nodes) {
      const existed = this.nodeById.get(id, LATEST) !== undefined;
      if (node === null && existed) nodeListEdit.remove.add(id);
      if (node !== null && !existed) nodeListEdit.add.add(id);
      this.nodeById.set(id, node === null ? undefined : frozenCopy(node), seq, horizon);
    }
    if (c.nodes.size > 0) {
      this.nodesChangedAt = seq;
      this.nodeListCache = null;
    }
    if (nodeListEdit.add.size > 0 || nodeListEdit.remove.size > 0) applyEdits(this.nodeIds, new Map([[ALL, nodeListEdit]]), seq, horizon);
    for (const m of [this.allocById, this.allocsByNode, this.allocsByJob, this.jobVersions, this.nodeById, this.nodeIds, this.nodeAllocs]) m.sweep(horizon);
  }

  /**
   * Rebuild the hydrated list of every node whose allocations (or their job versions) changed.
   * `before` holds each touched node's ID list from before this commit, so the usual commit
   * splices in what changed (carryNode) and costs what it changed, not what the node holds
   * (bin packing puts well over a hundred allocations on a node, and touching each of them
   * again was a cache miss apiece).
   */
  private refreshNodeAllocs(c: IndexChanges, nodeEdits: Map<string, Edit>, before: Map<string, readonly string[]>, seq: number, horizon: number): void {
    const nodes = new Set<string>(nodeEdits.keys());
    for (const key of c.jobVersions.keys()) {
      const [namespace = '', jobId = ''] = key.split('\u0000');
      for (const id of this.idsOfJob(namespace, jobId, LATEST)) {
        const a = this.allocById.get(id, LATEST);
        if (a !== undefined) nodes.add(a.NodeID);
      }
    }
    for (const nodeId of nodes) {
      const e = nodeEdits.get(nodeId);
      if (this.carryNode(nodeId, c, e, before.get(nodeId), seq, horizon)) continue;
      if (e !== undefined) applyEdits(this.allocsByNode, new Map([[nodeId, e]]), seq, horizon);
      this.refreshNode(nodeId, seq, horizon);
    }
  }

  /**
   * The usual commit: a few allocations joined, left or changed on a node whose previous list
   * (and what the scheduler derived from it) is known. The new list is the previous one with
   * those edits spliced in at their sorted places, found by binary search; the allocations
   * that stayed are never looked at, only their slots moved. The node's ID list is edited
   * alongside. Returns false, having changed nothing, when that does not apply (the caller
   * edits the ID list and rebuilds).
   */
  private carryNode(nodeId: string, c: IndexChanges, e: Edit | undefined, prevIds: readonly string[] | undefined, seq: number, horizon: number): boolean {
    if (e === undefined || prevIds === undefined || c.jobVersions.size > 0) return false;
    const prevList = this.nodeAllocs.get(nodeId, LATEST) ?? NO_ALLOCS;
    if (prevIds.length !== prevList.length) return false;
    const prev = knownLiveAllocs(prevList);
    if (prev === undefined) return false;
    const ids = prevIds.slice();
    const list = prevList.slice();
    const mask = prev.mask.slice();
    const usage: ResourceVector = { cpu: prev.usage.cpu, memoryMB: prev.usage.memoryMB, diskMB: prev.usage.diskMB };
    for (const id of e.remove) {
      if (e.add.has(id)) continue;
      const k = sortedIndexOf(ids, id);
      if (k < 0) continue;
      if (mask[k] === 1) subtractInto(usage, allocatedVector(list[k]!.AllocatedResources));
      ids.splice(k, 1);
      list.splice(k, 1);
      mask.splice(k, 1);
    }
    for (const id of e.add) {
      const stored = this.allocById.get(id, LATEST);
      const a = stored === undefined ? null : this.hydrate(stored, LATEST);
      if (a === null) return false;
      const isLive = isAllocTerminal(a) ? 0 : 1;
      const k = insertionPoint(ids, id);
      if (ids[k] === id) {
        if (mask[k] === 1) subtractInto(usage, allocatedVector(list[k]!.AllocatedResources));
        list[k] = a;
        mask[k] = isLive;
      } else {
        ids.splice(k, 0, id);
        list.splice(k, 0, a);
        mask.splice(k, 0, isLive);
      }
      if (isLive === 1) addInto(usage, allocatedVector(a.AllocatedResources));
    }
    this.allocsByNode.set(nodeId, ids.length === 0 ? undefined : ids, seq, horizon);
    if (list.length === 0) {
      this.nodeAllocs.set(nodeId, undefined, seq, horizon);
      return true;
    }
    const live: Allocation[] = [];
    for (let k = 0; k < list.length; k++) if (mask[k] === 1) live.push(list[k]!);
    primeLiveAllocs(list, { live, usage: Object.freeze(usage), mask });
    this.nodeAllocs.set(nodeId, list, seq, horizon);
    return true;
  }

  /**
   * One node's list rebuilt from its IDs, every allocation hydrated again: for a job version
   * that changed (allocations need the new Job attached) or a node whose previous list is
   * unknown. What the scheduler derives from it (live allocations, usage) is then worked out
   * by liveAllocs on first use.
   */
  private refreshNode(nodeId: string, seq: number, horizon: number): void {
    const list: Allocation[] = [];
    for (const id of this.idsOnNode(nodeId, LATEST)) {
      const stored = this.allocById.get(id, LATEST);
      const a = stored === undefined ? null : this.hydrate(stored, LATEST);
      if (a !== null) list.push(a);
    }
    this.nodeAllocs.set(nodeId, list.length === 0 ? undefined : list, seq, horizon);
  }
}

function subtractInto(into: ResourceVector, b: ResourceVector): void {
  into.cpu -= b.cpu;
  into.memoryMB -= b.memoryMB;
  into.diskMB -= b.diskMB;
}

interface Edit {
  add: Set<string>;
  remove: Set<string>;
}

function edit(m: Map<string, Edit>, key: string): Edit {
  let e = m.get(key);
  if (e === undefined) {
    e = { add: new Set(), remove: new Set() };
    m.set(key, e);
  }
  return e;
}

function applyEdits(map: VersionedMap<readonly string[]>, edits: Map<string, Edit>, seq: number, horizon: number): void {
  for (const [key, e] of edits) {
    const current = map.get(key, LATEST) ?? NONE;
    let next: string[] | null = null;
    for (const id of e.remove) {
      if (e.add.has(id)) continue;
      const at = sortedIndexOf(next ?? current, id);
      if (at < 0) continue;
      next ??= current.slice();
      next.splice(at, 1);
    }
    for (const id of e.add) {
      const list = next ?? current;
      const at = insertionPoint(list, id);
      if (list[at] === id) continue;
      next ??= current.slice();
      next.splice(at, 0, id);
    }
    if (next === null) continue;
    map.set(key, next.length === 0 ? undefined : next, seq, horizon);
  }
}

/** Where `id` is, or would go, in a sorted list (binary search: a node list holds thousands). */
function insertionPoint(list: readonly string[], id: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedIndexOf(list: readonly string[], id: string): number {
  const at = insertionPoint(list, id);
  return list[at] === id ? at : -1;
}

/**
 * Freeze a fresh top-level copy, made by Object.assign on purpose: objects built by spreading
 * (`{ ...o }`) each get their own hidden class, which turns every property read of a hot loop
 * over them megamorphic (measured: ~1 µs a read instead of a few ns). Copies made by adding
 * the same keys in the same order share one.
 */
function frozenCopy<T extends object>(o: T): T {
  for (const k in o) deepFreeze(o[k]);
  return Object.freeze(Object.assign({}, o));
}

/** The stored allocation as an Allocation: without JobVersion, with its Job (built key by key, as above). */
function withJob(stored: StoredAlloc, job: Job): Allocation {
  const out: Record<string, unknown> = {};
  for (const k in stored) if (k !== 'JobVersion') out[k] = stored[k as keyof StoredAlloc];
  out['Job'] = job;
  return Object.freeze(out) as unknown as Allocation;
}

/**
 * Walks with for-in and index loops, not Object.values: every allocation a plan commits is
 * frozen here, and the arrays Object.values made were about 7% of the bytes allocated while placing work.
 */
function deepFreeze<T>(o: T): T {
  // Typed arrays cannot be frozen; the state holds none, but a decoder could hand one over.
  if (o === null || typeof o !== 'object' || Object.isFrozen(o) || ArrayBuffer.isView(o)) return o;
  Object.freeze(o);
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) deepFreeze(o[i] as unknown);
  } else {
    const r = o as Record<string, unknown>;
    for (const k in r) deepFreeze(r[k]);
  }
  return o;
}
