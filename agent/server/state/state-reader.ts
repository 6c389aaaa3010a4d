/**
 * Read access to the cluster state, either at the latest committed index or through a
 * consistent snapshot (an LMDB read transaction). Schedulers only ever see a snapshot, so a
 * plan is computed against one coherent view, never a half-applied one.
 */
import type { RootDatabase, Database, Transaction } from 'lmdb';
import { defaultNamespace, DEFAULT_NAMESPACE, type ACLPolicy, type ACLToken, type Namespace } from '../../../structs/acl.js';
import type { Allocation } from '../../../structs/alloc.js';
import type { Deployment } from '../../../structs/deployment.js';
import type { Evaluation } from '../../../structs/eval.js';
import type { Job } from '../../../structs/job.js';
import type { Node } from '../../../structs/node.js';
import { defaultSchedulerConfig, type SchedulerConfiguration } from '../scheduler-config.js';

export const TABLES = ['jobs', 'job_versions', 'nodes', 'evals', 'allocs', 'scheduler_config', 'acl_policies', 'acl_tokens', 'namespaces', 'deployments'] as const;
export type TableName = (typeof TABLES)[number];

/** Allocations are stored without their embedded Job; it is re-attached from job_versions on read. */
export type StoredAlloc = Omit<Allocation, 'Job'> & { JobVersion: number };

/** Highest possible key suffix for prefix scans over array keys. */
export const KEY_MAX = '\uffff';

export interface StateTables {
  env: RootDatabase;
  jobs: Database<Job, [string, string]>;
  jobVersions: Database<Job, [string, string, number]>;
  nodes: Database<Node, string>;
  evals: Database<Evaluation, string>;
  /** Keyed by allocRowKey: [CreateIndex, ID]. */
  allocs: Database<StoredAlloc, [number, string]>;
  evalsByJob: Database<number, [string, string, string]>;
  schedulerConfig: Database<SchedulerConfiguration, string>;
  aclPolicies: Database<ACLPolicy, string>;
  /** By AccessorID; `aclTokensBySecret` maps SecretID to AccessorID. */
  aclTokens: Database<ACLToken, string>;
  aclTokensBySecret: Database<string, string>;
  namespaces: Database<Namespace, string>;
  deployments: Database<Deployment, string>;
  /** [namespace, jobId, deploymentId] → 1. */
  deploymentsByJob: Database<number, [string, string, string]>;
  meta: Database<unknown, string>;
}

export interface StateReader {
  /** Raft index of the last change to any table. */
  latestIndex(): number;
  tableIndex(table: TableName): number;
  jobById(namespace: string, id: string): Job | null;
  jobs(namespace?: string, prefix?: string): Job[];
  jobVersion(namespace: string, id: string, version: number): Job | null;
  jobVersions(namespace: string, id: string): Job[];
  nodeById(id: string): Node | null;
  nodes(prefix?: string): readonly Node[];
  evalById(id: string): Evaluation | null;
  evals(prefix?: string): Evaluation[];
  evalsByJob(namespace: string, jobId: string): Evaluation[];
  allocById(id: string): Allocation | null;
  allocs(prefix?: string): Allocation[];
  /** Shared (readonly; its allocations are frozen): the same array until something on the node changes. */
  allocsByNode(nodeId: string): readonly Allocation[];
  allocsByJob(namespace: string, jobId: string): Allocation[];
  allocsByEval(evalId: string): Allocation[];
  /** The stored scheduler configuration, or Nomad's defaults when none was ever set. */
  schedulerConfig(): SchedulerConfiguration;
  aclPolicy(name: string): ACLPolicy | null;
  aclPolicies(prefix?: string): ACLPolicy[];
  aclTokenByAccessor(accessorId: string): ACLToken | null;
  aclTokenBySecret(secretId: string): ACLToken | null;
  aclTokens(prefix?: string): ACLToken[];
  /** The Raft index at which the ACL system was bootstrapped; 0 when it never was. */
  aclBootstrapIndex(): number;
  /** A namespace; `default` always exists, stored or not. */
  namespace(name: string): Namespace | null;
  namespaces(prefix?: string): Namespace[];
  deploymentById(id: string): Deployment | null;
  deployments(prefix?: string): Deployment[];
  /** A job's deployments, newest first (by CreateIndex). */
  deploymentsByJob(namespace: string, jobId: string): Deployment[];
  /** The job's newest deployment, or null. */
  latestDeploymentByJob(namespace: string, jobId: string): Deployment | null;
}

/**
 * Reads of the tables kept in memory (see StateIndex), as one reader sees them: a snapshot at
 * its commit, the live state at the latest, the FSM's writer with its own uncommitted writes.
 */
export interface IndexReads {
  alloc(id: string): StoredAlloc | undefined;
  /** Sorted allocation IDs. */
  idsOnNode(nodeId: string): readonly string[];
  /** A node's allocations, hydrated; the same shared array until something on the node changes. */
  allocsOnNode(nodeId: string): readonly Allocation[];
  idsOfJob(namespace: string, jobId: string): readonly string[];
  /** Sorted by ID. */
  allocList(prefix: string): StoredAlloc[];
  jobVersion(namespace: string, jobId: string, version: number): Job | undefined;
  node(id: string): Node | undefined;
  /** Sorted by ID. */
  nodeList(prefix: string): readonly Node[];
  /** The allocation with its job version attached; null when that version is missing. */
  hydrate(stored: StoredAlloc): Allocation | null;
}

/**
 * A StateReader over one LMDB read transaction (or the latest state when `txn` is undefined)
 * for the tables read from disk, and over `reads` for those kept in memory.
 */
export class TableReader implements StateReader {
  constructor(
    protected readonly t: StateTables,
    private readonly txn: Transaction | undefined,
    protected readonly reads: IndexReads,
  ) {}

  private get opts(): { transaction?: Transaction } {
    return this.txn === undefined ? {} : { transaction: this.txn };
  }

  latestIndex(): number {
    return (this.t.meta.get('latestIndex', this.opts) as number | undefined) ?? 0;
  }

  tableIndex(table: TableName): number {
    return (this.t.meta.get(`index:${table}`, this.opts) as number | undefined) ?? 0;
  }

  jobById(namespace: string, id: string): Job | null {
    return this.t.jobs.get([namespace, id], this.opts) ?? null;
  }

  jobs(namespace?: string, prefix = ''): Job[] {
    const range =
      namespace === undefined
        ? this.t.jobs.getRange(this.opts)
        : this.t.jobs.getRange({ ...this.opts, start: [namespace, prefix], end: [namespace, prefix + KEY_MAX] });
    const out: Job[] = [];
    for (const { value } of range) if (value.ID.startsWith(prefix)) out.push(value);
    return out;
  }

  jobVersion(namespace: string, id: string, version: number): Job | null {
    return this.reads.jobVersion(namespace, id, version) ?? null;
  }

  jobVersions(namespace: string, id: string): Job[] {
    const out: Job[] = [];
    for (const { value } of this.t.jobVersions.getRange({
      ...this.opts,
      start: [namespace, id, 0],
      end: [namespace, id, Number.MAX_SAFE_INTEGER],
      reverse: false,
    })) {
      out.push(value);
    }
    return out.reverse();
  }

  nodeById(id: string): Node | null {
    return this.reads.node(id) ?? null;
  }

  nodes(prefix = ''): readonly Node[] {
    return this.reads.nodeList(prefix);
  }

  evalById(id: string): Evaluation | null {
    return this.t.evals.get(id, this.opts) ?? null;
  }

  evals(prefix = ''): Evaluation[] {
    const out: Evaluation[] = [];
    for (const { value } of this.t.evals.getRange({ ...this.opts, start: prefix, end: prefix + KEY_MAX })) out.push(value);
    return out;
  }

  evalsByJob(namespace: string, jobId: string): Evaluation[] {
    const out: Evaluation[] = [];
    for (const { key } of this.t.evalsByJob.getRange({ ...this.opts, start: [namespace, jobId, ''], end: [namespace, jobId, KEY_MAX] })) {
      const ev = this.evalById(key[2]);
      if (ev) out.push(ev);
    }
    return out;
  }

  allocById(id: string): Allocation | null {
    const stored = this.reads.alloc(id);
    return stored ? this.hydrate(stored) : null;
  }

  allocs(prefix = ''): Allocation[] {
    return this.reads.allocList(prefix).map((a) => this.hydrate(a));
  }

  allocsByNode(nodeId: string): readonly Allocation[] {
    return this.reads.allocsOnNode(nodeId);
  }

  /** The job's allocations as stored (without their Job attached): enough for status decisions. */
  storedAllocsByJob(namespace: string, jobId: string): StoredAlloc[] {
    const out: StoredAlloc[] = [];
    for (const id of this.reads.idsOfJob(namespace, jobId)) {
      const a = this.reads.alloc(id);
      if (a) out.push(a);
    }
    return out;
  }

  allocsByJob(namespace: string, jobId: string): Allocation[] {
    return this.storedAllocsByJob(namespace, jobId).map((a) => this.hydrate(a));
  }

  allocsByEval(evalId: string): Allocation[] {
    const ev = this.evalById(evalId);
    if (!ev) return [];
    return this.allocsByJob(ev.Namespace, ev.JobID).filter((a) => a.EvalID === evalId);
  }

  schedulerConfig(): SchedulerConfiguration {
    return this.t.schedulerConfig.get('config', this.opts) ?? defaultSchedulerConfig();
  }

  aclPolicy(name: string): ACLPolicy | null {
    return this.t.aclPolicies.get(name, this.opts) ?? null;
  }

  aclPolicies(prefix = ''): ACLPolicy[] {
    const out: ACLPolicy[] = [];
    for (const { value } of this.t.aclPolicies.getRange({ ...this.opts, start: prefix, end: prefix + KEY_MAX })) out.push(value);
    return out;
  }

  aclTokenByAccessor(accessorId: string): ACLToken | null {
    return this.t.aclTokens.get(accessorId, this.opts) ?? null;
  }

  aclTokenBySecret(secretId: string): ACLToken | null {
    const accessor = this.t.aclTokensBySecret.get(secretId, this.opts);
    return accessor === undefined ? null : this.aclTokenByAccessor(accessor);
  }

  aclTokens(prefix = ''): ACLToken[] {
    const out: ACLToken[] = [];
    for (const { value } of this.t.aclTokens.getRange({ ...this.opts, start: prefix, end: prefix + KEY_MAX })) out.push(value);
    return out;
  }

  aclBootstrapIndex(): number {
    return (this.t.meta.get('aclBootstrapIndex', this.opts) as number | undefined) ?? 0;
  }

  namespace(name: string): Namespace | null {
    return this.t.namespaces.get(name, this.opts) ?? (name === DEFAULT_NAMESPACE ? defaultNamespace() : null);
  }

  namespaces(prefix = ''): Namespace[] {
    const out: Namespace[] = [];
    for (const { value } of this.t.namespaces.getRange({ ...this.opts, start: prefix, end: prefix + KEY_MAX })) out.push(value);
    if (DEFAULT_NAMESPACE.startsWith(prefix) && !out.some((n) => n.Name === DEFAULT_NAMESPACE)) {
      out.push(defaultNamespace());
      out.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    }
    return out;
  }

  deploymentById(id: string): Deployment | null {
    return this.t.deployments.get(id, this.opts) ?? null;
  }

  deployments(prefix = ''): Deployment[] {
    const out: Deployment[] = [];
    for (const { value } of this.t.deployments.getRange({ ...this.opts, start: prefix, end: prefix + KEY_MAX })) out.push(value);
    return out;
  }

  deploymentsByJob(namespace: string, jobId: string): Deployment[] {
    const out: Deployment[] = [];
    for (const { key } of this.t.deploymentsByJob.getRange({ ...this.opts, start: [namespace, jobId, ''], end: [namespace, jobId, KEY_MAX] })) {
      const d = this.deploymentById(key[2]);
      if (d) out.push(d);
    }
    return out.sort((a, b) => b.CreateIndex - a.CreateIndex);
  }

  latestDeploymentByJob(namespace: string, jobId: string): Deployment | null {
    return this.deploymentsByJob(namespace, jobId)[0] ?? null;
  }

  /** Re-attach the job version an allocation runs. */
  private hydrate(stored: StoredAlloc): Allocation {
    const a = this.reads.hydrate(stored);
    if (!a) throw new Error(`state inconsistency: allocation ${stored.ID} references missing job version ${stored.JobID}@${stored.JobVersion}`);
    return a;
  }
}
