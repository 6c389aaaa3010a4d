/**
 * The servers' state store: LMDB tables for jobs (and their versions), nodes, evaluations and
 * allocations, with secondary indexes and the Raft index of each table's last change.
 *
 * Only the FSM writes here, one LMDB transaction per Raft entry, and the same transaction
 * records `lastApplied`: after a crash the store and its applied index agree, and Raft replays
 * exactly the entries after it. The environment is opened with `noSync` because the Raft log,
 * not this store, is the durable record; this store is derived from it.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { pack, unpack } from 'msgpackr';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { YurtError } from '../../../structs/errors.js';
import type { ACLPolicy, ACLToken, Namespace } from '../../../structs/acl.js';
import type { Allocation } from '../../../structs/alloc.js';
import type { Deployment } from '../../../structs/deployment.js';
import type { Evaluation } from '../../../structs/eval.js';
import type { Job } from '../../../structs/job.js';
import type { Node } from '../../../structs/node.js';
import type { SchedulerConfiguration } from '../scheduler-config.js';
import { hasIndexChanges, jobVersionKey, StateIndex, type IndexChanges } from './state-index.js';
import { pendingReads } from './pending-reads.js';
import { TABLES, TableReader, type IndexReads, type StateReader, type StateTables, type StoredAlloc, type TableName } from './state-reader.js';
import { LATEST } from './versioned-map.js';

export interface StateChange {
  index: number;
  tables: ReadonlySet<TableName>;
  /** Nodes whose allocations changed in this write (for pushing updates to their clients). */
  allocNodes: ReadonlySet<string>;
  /** Every object written or deleted, in write order (the event stream's source). */
  objects: readonly ChangedObject[];
}

/** One object a write touched. `key` is the table's key: an ID, or [namespace, id] for jobs. */
export interface ChangedObject {
  table: 'jobs' | 'nodes' | 'evals' | 'allocs' | 'scheduler_config' | 'deployments';
  key: string | readonly [string, string];
  deleted: boolean;
}

/** A consistent, read-only view; call `release()` when done (it pins an LMDB read transaction). */
export interface StateSnapshot extends StateReader {
  release(): void;
}

/** Where the alloc_rows table keeps its shared record structures (lmdb's own key space). */
const ALLOC_STRUCTURES = Symbol.for('structures');

/** Bumped when the snapshot layout changes incompatibly. */
const SNAPSHOT_FORMAT = 'yurt-state-v1';

/** The index in use; replaced wholesale when a Raft snapshot is restored. */
interface IndexHolder {
  current: StateIndex;
}

/** The newest state, from whichever index is current (a restore replaces it under live readers). */
function liveReads(holder: IndexHolder): IndexReads {
  return {
    alloc: (id) => holder.current.alloc(id, LATEST),
    idsOnNode: (nodeId) => holder.current.idsOnNode(nodeId, LATEST),
    allocsOnNode: (nodeId) => holder.current.allocsOnNode(nodeId, LATEST),
    idsOfJob: (namespace, jobId) => holder.current.idsOfJob(namespace, jobId, LATEST),
    allocList: (prefix) => holder.current.allocList(prefix, LATEST),
    jobVersion: (namespace, jobId, version) => holder.current.jobVersion(namespace, jobId, version, LATEST),
    node: (id) => holder.current.node(id, LATEST),
    nodeList: (prefix) => holder.current.nodeList(prefix, LATEST),
    hydrate: (stored) => holder.current.hydrate(stored, LATEST),
  };
}

export class StateStore extends TableReader {
  private readonly events = new EventEmitter();
  /** Commits so far: the AllocIndex's version numbers. */
  private seq = 0;
  /** Commit sequence of each open snapshot (with a count: several may share one). */
  private readonly pinned = new Map<number, number>();

  private constructor(
    private readonly tables: StateTables,
    private readonly index: IndexHolder,
  ) {
    super(tables, undefined, liveReads(index));
    this.events.setMaxListeners(0);
  }

  static open(dir: string): StateStore {
    mkdirSync(dir, { recursive: true });
    const env = open({ path: dir, noSync: true, maxDbs: 32 });
    const tables: StateTables = {
      env,
      jobs: env.openDB({ name: 'jobs' }),
      jobVersions: env.openDB({ name: 'job_versions' }),
      nodes: env.openDB({ name: 'nodes' }),
      evals: env.openDB({ name: 'evals' }),
      // Shared record structures: each row holds its values only, the keys of each object shape
      // are stored once in the table. A row is 525 bytes instead of 1,231, encoded in 4 µs
      // instead of 7 (most of the cost of writing a plan).
      allocs: env.openDB({ name: 'alloc_rows', sharedStructuresKey: ALLOC_STRUCTURES }),
      evalsByJob: env.openDB({ name: 'idx_evals_by_job' }),
      schedulerConfig: env.openDB({ name: 'scheduler_config' }),
      aclPolicies: env.openDB({ name: 'acl_policies' }),
      aclTokens: env.openDB({ name: 'acl_tokens' }),
      aclTokensBySecret: env.openDB({ name: 'idx_acl_tokens_by_secret' }),
      namespaces: env.openDB({ name: 'namespaces' }),
      deployments: env.openDB({ name: 'deployments' }),
      deploymentsByJob: env.openDB({ name: 'idx_deployments_by_job' }),
      meta: env.openDB({ name: 'meta' }),
    };
    migrateAllocRows(env, tables.allocs);
    return new StateStore(tables, { current: loadStateIndex(tables) });
  }

  async close(): Promise<void> {
    await this.tables.env.close();
  }

  snapshot(): StateSnapshot {
    const txn = this.tables.env.useReadTransaction();
    const at = this.seq;
    this.pinned.set(at, (this.pinned.get(at) ?? 0) + 1);
    const reader = new TableReader(this.tables, txn, this.index.current.readsAt(at));
    let released = false;
    const unpin = (): void => {
      const n = this.pinned.get(at) ?? 0;
      if (n <= 1) this.pinned.delete(at);
      else this.pinned.set(at, n - 1);
    };
    return Object.assign(reader, {
      release(): void {
        if (!released) {
          released = true;
          txn.done();
          unpin();
        }
      },
    });
  }

  /** The oldest commit an open snapshot still reads (the next commit's number when none is open). */
  private horizon(next: number): number {
    let min = next;
    for (const at of this.pinned.keys()) if (at < min) min = at;
    return min;
  }

  /** The Raft index and term of the last entry applied to this store. */
  lastApplied(): { index: number; term: number } {
    return (this.tables.meta.get('lastApplied') as { index: number; term: number } | undefined) ?? { index: 0, term: 0 };
  }

  /**
   * Apply one Raft entry's changes atomically. `fn` gets a writer; every table it touches gets
   * `index` as its change index, and listeners hear about the change after commit.
   */
  write<T>(index: number, term: number, fn: (w: StateWriter) => T): T {
    const changes: IndexChanges = { allocs: new Map(), jobVersions: new Map(), nodes: new Map() };
    const w = new StateWriter(this.tables, index, pendingReads(this.index.current, changes), changes);
    const result = this.transaction(() => {
      const r = fn(w);
      for (const t of w.touched) this.tables.meta.putSync(`index:${t}`, index);
      this.tables.meta.putSync('latestIndex', Math.max(index, this.latestIndex()));
      this.tables.meta.putSync('lastApplied', { index, term });
      return r;
    });
    if (hasIndexChanges(w.indexChanges)) {
      const next = this.seq + 1;
      this.index.current.apply(w.indexChanges, next, this.horizon(next));
      this.seq = next;
    }
    if (w.touched.size > 0) {
      const change: StateChange = { index, tables: w.touched, allocNodes: w.allocNodes, objects: w.objects };
      this.events.emit('change', change);
    }
    return result;
  }

  /**
   * Every table's rows as one blob: the FSM's Raft snapshot. It runs synchronously, and FSM
   * writes are synchronous transactions on the same thread, so it sees exactly the state after
   * the last applied entry.
   */
  snapshotBytes(): Uint8Array {
    const tables: Record<string, Array<[unknown, unknown]>> = {};
    for (const [name, db] of this.databases()) {
      const rows: Array<[unknown, unknown]> = [];
      // Allocation rows go out keyed by ID, as snapshots have always held them; the row key is
      // this store's own layout (allocRowKey) and is rebuilt on restore.
      if (name === 'allocs') for (const { value } of db.getRange()) rows.push([(value as StoredAlloc).ID, value]);
      else for (const { key, value } of db.getRange()) rows.push([key, value]);
      tables[name] = rows;
    }
    return pack({ format: SNAPSHOT_FORMAT, tables });
  }

  /**
   * Replaces the whole state by a snapshot's, in one transaction (a crash leaves the old
   * state and its lastApplied, and Raft restores again). Rejects a blob it does not know
   * before touching anything.
   */
  restoreBytes(data: Uint8Array, index: number, term: number): void {
    let decoded: unknown;
    try {
      decoded = unpack(data);
    } catch (e) {
      throw new YurtError('corrupted', `state snapshot at index ${index} cannot be decoded: ${(e as Error).message}`);
    }
    const snap = decoded as { format?: unknown; tables?: Record<string, Array<[unknown, unknown]>> } | null;
    if (snap === null || typeof snap !== 'object' || snap.format !== SNAPSHOT_FORMAT || typeof snap.tables !== 'object') {
      throw new YurtError('corrupted', `state snapshot at index ${index} is not a yurt state snapshot (format ${String(snap?.format)})`);
    }
    const tables = snap.tables;
    this.transaction(() => {
      for (const [name, db] of this.databases()) {
        for (const key of db.getKeys()) db.removeSync(key);
        for (const [k, v] of tables[name] ?? []) db.putSync((name === 'allocs' ? allocRowKey(v as StoredAlloc) : k) as never, v);
      }
      this.tables.meta.putSync('lastApplied', { index, term });
    });
    // Open snapshots keep the index they were made from; everyone else reads the restored one.
    this.seq++;
    this.index.current = loadStateIndex(this.tables, this.seq);
    const allocNodes = new Set<string>();
    for (const [, a] of tables.allocs ?? []) allocNodes.add((a as StoredAlloc).NodeID);
    const change: StateChange = { index, tables: new Set<TableName>(TABLES), allocNodes, objects: [] };
    this.events.emit('change', change);
  }

  /**
   * One write transaction. When it fails and is rolled back, so is any record structure that
   * alloc_rows' encoder saved in it, but the encoder would go on using it: rows written later
   * would then not decode after a restart. The encoder reloads its structures from the table.
   */
  private transaction<T>(fn: () => T): T {
    try {
      return this.tables.env.transactionSync(fn);
    } catch (e) {
      const encoder = (this.tables.allocs as unknown as { encoder?: { structures?: { uninitialized?: boolean } } }).encoder;
      if (encoder?.structures !== undefined) encoder.structures.uninitialized = true;
      throw e;
    }
  }

  private databases(): Array<[string, Database<unknown, never>]> {
    const out: Array<[string, Database<unknown, never>]> = [];
    for (const [name, db] of Object.entries(this.tables)) {
      if (name !== 'env') out.push([name, db as Database<unknown, never>]);
    }
    return out;
  }

  /** Record an applied entry that changed nothing (no-ops, config entries). */
  markApplied(index: number, term: number): void {
    this.tables.env.transactionSync(() => this.tables.meta.putSync('lastApplied', { index, term }));
  }

  onChange(cb: (c: StateChange) => void): () => void {
    this.events.on('change', cb);
    return () => this.events.off('change', cb);
  }

  /**
   * Resolve once any of `tables` has changed past `minIndex`, or after `timeoutMs`; the basis
   * of blocking queries. Resolves with the current max index of those tables either way.
   */
  waitForChange(tables: readonly TableName[], minIndex: number, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    const current = (): number => Math.max(0, ...tables.map((t) => this.tableIndex(t)));
    const now = current();
    if (now > minIndex || timeoutMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', done);
        resolve(current());
      };
      const off = this.onChange((c) => {
        if (c.index > minIndex && tables.some((t) => c.tables.has(t))) done();
      });
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done);
    });
  }
}

/**
 * Where an allocation's row lives: [CreateIndex, ID]. Allocation IDs are random, so rows keyed by
 * ID scattered a plan's hundred allocations over as many B-tree leaves, and each commit wrote
 * every one of those pages (measured: 100-allocation commits took 8x longer to commit than with
 * these keys). Created together, a plan's allocations are now neighbours. Nothing looks a row up
 * by key: the allocations are read from the in-memory index, which knows each one's CreateIndex.
 */
export function allocRowKey(a: Pick<StoredAlloc, 'CreateIndex' | 'ID'>): [number, string] {
  return [a.CreateIndex, a.ID];
}

/**
 * Data directories from builds that keyed allocation rows by ID keep them in the `allocs`
 * table: moved to `alloc_rows` once, in one transaction, on the first open.
 */
function migrateAllocRows(env: RootDatabase, rows: Database<StoredAlloc, [number, string]>): void {
  const legacy = env.openDB<StoredAlloc, string>({ name: 'allocs' });
  if (legacy.getKeysCount({ limit: 1 }) === 0) return;
  env.transactionSync(() => {
    for (const { key, value } of legacy.getRange()) {
      rows.putSync(allocRowKey(value), value);
      legacy.removeSync(key);
    }
  });
}

function loadStateIndex(t: StateTables, seq = 0): StateIndex {
  const allocs = new Map<string, StoredAlloc>();
  for (const { value } of t.allocs.getRange()) allocs.set(value.ID, value);
  const jobVersions = new Map<string, Job>();
  for (const { key, value } of t.jobVersions.getRange()) jobVersions.set(jobVersionKey(...key), value);
  const nodes = new Map<string, Node>();
  for (const { value } of t.nodes.getRange()) nodes.set(value.ID, value);
  return StateIndex.load({ allocs, jobVersions, nodes }, seq);
}

/** The mutations the FSM may perform, inside one write transaction. */
export class StateWriter extends TableReader {
  readonly touched = new Set<TableName>();
  readonly allocNodes = new Set<string>();
  readonly objects: ChangedObject[] = [];
  /** Jobs whose version this transaction knows to be stored: a plan's allocations share one. */
  private readonly versionsStored = new Set<Job>();

  /**
   * @param reads the committed in-memory tables with this transaction's writes laid over them
   * @param indexChanges where this transaction records its writes to those tables, for the
   *   StateIndex once it commits
   */
  constructor(
    private readonly tw: StateTables,
    readonly index: number,
    reads: IndexReads,
    readonly indexChanges: IndexChanges,
  ) {
    super(tw, undefined, reads);
  }

  putJob(job: Job): void {
    this.tw.jobs.putSync([job.Namespace, job.ID], job);
    this.tw.jobVersions.putSync([job.Namespace, job.ID, job.Version], job);
    this.indexChanges.jobVersions.set(jobVersionKey(job.Namespace, job.ID, job.Version), job);
    this.touched.add('jobs');
    this.touched.add('job_versions');
    this.objects.push({ table: 'jobs', key: [job.Namespace, job.ID], deleted: false });
  }

  /** Rewrite a stored version of a job (not the current one): a deployment marking it stable. */
  putJobVersion(job: Job): void {
    this.tw.jobVersions.putSync([job.Namespace, job.ID, job.Version], job);
    this.indexChanges.jobVersions.set(jobVersionKey(job.Namespace, job.ID, job.Version), job);
    this.touched.add('job_versions');
  }

  /** Update only the current-job row (status changes) without writing a new version. */
  putJobStatus(job: Job): void {
    this.tw.jobs.putSync([job.Namespace, job.ID], job);
    this.touched.add('jobs');
    this.objects.push({ table: 'jobs', key: [job.Namespace, job.ID], deleted: false });
  }

  /**
   * Purge a job. Versions still run by allocations are kept (allocations read their job
   * through them) until garbage collection removes those allocations.
   */
  deleteJob(namespace: string, id: string): void {
    this.tw.jobs.removeSync([namespace, id]);
    this.objects.push({ table: 'jobs', key: [namespace, id], deleted: true });
    const inUse = new Set(this.storedAllocsByJob(namespace, id).map((a) => a.JobVersion));
    for (const { key } of this.tw.jobVersions.getRange({ start: [namespace, id, 0], end: [namespace, id, Number.MAX_SAFE_INTEGER] })) {
      if (!inUse.has(key[2])) {
        this.tw.jobVersions.removeSync(key);
        this.indexChanges.jobVersions.set(jobVersionKey(...key), null);
      }
    }
    this.touched.add('jobs');
    this.touched.add('job_versions');
  }

  putNode(node: Node): void {
    this.tw.nodes.putSync(node.ID, node);
    this.indexChanges.nodes.set(node.ID, node);
    this.touched.add('nodes');
    this.objects.push({ table: 'nodes', key: node.ID, deleted: false });
  }

  putAclPolicy(p: ACLPolicy): void {
    this.tw.aclPolicies.putSync(p.Name, p);
    this.touched.add('acl_policies');
  }

  deleteAclPolicy(name: string): void {
    if (this.tw.aclPolicies.get(name) === undefined) return;
    this.tw.aclPolicies.removeSync(name);
    this.touched.add('acl_policies');
  }

  /** ACL objects stay out of `objects`: the event stream must never carry token secrets. */
  putAclToken(t: ACLToken): void {
    const prev = this.tw.aclTokens.get(t.AccessorID);
    if (prev && prev.SecretID !== t.SecretID) this.tw.aclTokensBySecret.removeSync(prev.SecretID);
    this.tw.aclTokens.putSync(t.AccessorID, t);
    this.tw.aclTokensBySecret.putSync(t.SecretID, t.AccessorID);
    this.touched.add('acl_tokens');
  }

  deleteAclToken(accessorId: string): void {
    const prev = this.tw.aclTokens.get(accessorId);
    if (!prev) return;
    this.tw.aclTokens.removeSync(accessorId);
    this.tw.aclTokensBySecret.removeSync(prev.SecretID);
    this.touched.add('acl_tokens');
  }

  markAclBootstrapped(): void {
    this.tw.meta.putSync('aclBootstrapIndex', this.index);
    this.touched.add('acl_tokens');
  }

  putNamespace(ns: Namespace): void {
    this.tw.namespaces.putSync(ns.Name, ns);
    this.touched.add('namespaces');
  }

  deleteNamespace(name: string): void {
    if (this.tw.namespaces.get(name) === undefined) return;
    this.tw.namespaces.removeSync(name);
    this.touched.add('namespaces');
  }

  putSchedulerConfig(c: SchedulerConfiguration): void {
    this.tw.schedulerConfig.putSync('config', c);
    this.touched.add('scheduler_config');
    this.objects.push({ table: 'scheduler_config', key: 'config', deleted: false });
  }

  deleteEval(id: string): void {
    const ev = this.tw.evals.get(id);
    if (!ev) return;
    this.tw.evals.removeSync(id);
    this.tw.evalsByJob.removeSync([ev.Namespace, ev.JobID, id]);
    this.touched.add('evals');
    this.objects.push({ table: 'evals', key: id, deleted: true });
  }

  /** Remove an allocation, and the job version it ran once nothing else needs it. */
  deleteAlloc(id: string): void {
    const a = this.reads.alloc(id);
    if (!a) return;
    this.tw.allocs.removeSync(allocRowKey(a));
    this.indexChanges.allocs.set(id, null);
    this.touched.add('allocs');
    this.allocNodes.add(a.NodeID);
    this.objects.push({ table: 'allocs', key: id, deleted: true });
    const current = this.tw.jobs.get([a.Namespace, a.JobID]);
    if (!current && !this.storedAllocsByJob(a.Namespace, a.JobID).some((x) => x.JobVersion === a.JobVersion)) {
      this.tw.jobVersions.removeSync([a.Namespace, a.JobID, a.JobVersion]);
      this.indexChanges.jobVersions.set(jobVersionKey(a.Namespace, a.JobID, a.JobVersion), null);
      this.touched.add('job_versions');
    }
  }

  deleteNode(id: string): void {
    if (this.tw.nodes.get(id) === undefined) return;
    this.tw.nodes.removeSync(id);
    this.indexChanges.nodes.set(id, null);
    this.touched.add('nodes');
    this.objects.push({ table: 'nodes', key: id, deleted: true });
  }

  putDeployment(d: Deployment): void {
    this.tw.deployments.putSync(d.ID, d);
    this.tw.deploymentsByJob.putSync([d.Namespace, d.JobID, d.ID], 1);
    this.touched.add('deployments');
    this.objects.push({ table: 'deployments', key: d.ID, deleted: false });
  }

  deleteDeployment(id: string): void {
    const d = this.tw.deployments.get(id);
    if (!d) return;
    this.tw.deployments.removeSync(id);
    this.tw.deploymentsByJob.removeSync([d.Namespace, d.JobID, id]);
    this.touched.add('deployments');
    this.objects.push({ table: 'deployments', key: id, deleted: true });
  }

  putEval(ev: Evaluation): void {
    this.tw.evals.putSync(ev.ID, ev);
    this.tw.evalsByJob.putSync([ev.Namespace, ev.JobID, ev.ID], 1);
    this.touched.add('evals');
    this.objects.push({ table: 'evals', key: ev.ID, deleted: false });
  }

  /** Store the job version an allocation runs, unless it is already stored (checked without decoding). */
  private ensureJobVersion(job: Job): void {
    if (this.versionsStored.has(job)) return;
    const versionKey: [string, string, number] = [job.Namespace, job.ID, job.Version];
    if (!this.tw.jobVersions.doesExist(versionKey)) {
      this.tw.jobVersions.putSync(versionKey, job);
      this.indexChanges.jobVersions.set(jobVersionKey(...versionKey), job);
      this.touched.add('job_versions');
    }
    this.versionsStored.add(job);
  }

  putAlloc(alloc: Allocation): void {
    const job = alloc.Job;
    const stored = storedAlloc(alloc);
    this.ensureJobVersion(job);
    // Allocations by node and by job are indexed in memory only (StateIndex, rebuilt from this
    // table on open): two more LMDB keys per allocation were a third of writing a plan.
    // A row moves only if its CreateIndex changed, which no writer does today.
    const prev = this.reads.alloc(alloc.ID);
    if (prev !== undefined && prev.CreateIndex !== stored.CreateIndex) this.tw.allocs.removeSync(allocRowKey(prev));
    this.tw.allocs.putSync(allocRowKey(stored), stored);
    this.indexChanges.allocs.set(alloc.ID, stored);
    this.touched.add('allocs');
    this.allocNodes.add(alloc.NodeID);
    this.objects.push({ table: 'allocs', key: alloc.ID, deleted: false });
  }
}

/**
 * The allocation as stored: its job version instead of its job. Built key by key, so every
 * stored allocation shares one hidden class (spread-built copies each get their own, which
 * makes reads of them megamorphic), and in one copy: the index keeps this object as it is.
 */
function storedAlloc(alloc: Allocation): StoredAlloc {
  const out: Record<string, unknown> = {};
  for (const k in alloc) if (k !== 'Job') out[k] = alloc[k as keyof Allocation];
  out['JobVersion'] = alloc.Job.Version;
  return out as unknown as StoredAlloc;
}
