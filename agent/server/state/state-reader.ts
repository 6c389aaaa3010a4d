/**
 * Read access to the cluster state, either at the latest committed index or through a
 * consistent snapshot (an LMDB read transaction). Schedulers only ever see a snapshot, so a
 * plan is computed against one coherent view, never a half-applied one.
 */
import type { RootDatabase, Database, Transaction } from 'lmdb';
import { defaultNamespace, DEFAULT_NAMESPACE, type ACLPolicy, type ACLToken, type Namespace } from '../../../structs/acl.js';
import type { Allocation } from '../../../structs/alloc.js';
import type { Evaluation } from '../../../structs/eval.js';
import type { Job } from '../../../structs/job.js';
import type { Node } from '../../../structs/node.js';
import { defaultSchedulerConfig, type SchedulerConfiguration } from '../scheduler-config.js';

export const TABLES = ['jobs', 'job_versions', 'nodes', 'evals', 'allocs', 'scheduler_config', 'acl_policies', 'acl_tokens', 'namespaces'] as const;
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
  allocs: Database<StoredAlloc, string>;
  allocsByNode: Database<number, [string, string]>;
  allocsByJob: Database<number, [string, string, string]>;
  evalsByJob: Database<number, [string, string, string]>;
  schedulerConfig: Database<SchedulerConfiguration, string>;
  aclPolicies: Database<ACLPolicy, string>;
  /** By AccessorID; `aclTokensBySecret` maps SecretID to AccessorID. */
  aclTokens: Database<ACLToken, string>;
  aclTokensBySecret: Database<string, string>;
  namespaces: Database<Namespace, string>;
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
  nodes(prefix?: string): Node[];
  evalById(id: string): Evaluation | null;
  evals(prefix?: string): Evaluation[];
  evalsByJob(namespace: string, jobId: string): Evaluation[];
  allocById(id: string): Allocation | null;
  allocs(prefix?: string): Allocation[];
  allocsByNode(nodeId: string): Allocation[];
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
}

/** A StateReader bound to one read transaction (or to the latest state when `txn` is undefined). */
export class TableReader implements StateReader {
  /**
   * A snapshot never changes, so what it decoded once it can hand out again: schedulers read
   * the same nodes, allocations and job versions many times per evaluation, and decoding them
   * (an allocation carries its whole job) dominated the cost. Callers must not mutate what
   * they get. The live reader (no transaction) never memoizes.
   */
  private readonly memo: Map<string, unknown> | null;

  constructor(
    protected readonly t: StateTables,
    private readonly txn: Transaction | undefined,
  ) {
    this.memo = txn === undefined ? null : new Map();
  }

  private memoized<T>(key: string, load: () => T): T {
    if (this.memo === null) return load();
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = load();
    this.memo.set(key, v);
    return v;
  }

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
    return this.memoized(`jv\u0000${namespace}\u0000${id}\u0000${version}`, () => this.t.jobVersions.get([namespace, id, version], this.opts) ?? null);
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
    return this.memoized(`n\u0000${id}`, () => this.t.nodes.get(id, this.opts) ?? null);
  }

  nodes(prefix = ''): Node[] {
    return this.memoized(`ns\u0000${prefix}`, () => {
      const out: Node[] = [];
      for (const { value } of this.t.nodes.getRange({ ...this.opts, start: prefix, end: prefix + KEY_MAX })) out.push(value);
      return out;
    }).slice();
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
    return this.memoized(`a\u0000${id}`, () => {
      const stored = this.t.allocs.get(id, this.opts);
      return stored ? this.hydrate(stored) : null;
    });
  }

  allocs(prefix = ''): Allocation[] {
    const out: Allocation[] = [];
    for (const { value } of this.t.allocs.getRange({ ...this.opts, start: prefix, end: prefix + KEY_MAX })) out.push(this.hydrate(value));
    return out;
  }

  allocsByNode(nodeId: string): Allocation[] {
    return this.memoized(`an\u0000${nodeId}`, () => {
      const out: Allocation[] = [];
      for (const { key } of this.t.allocsByNode.getRange({ ...this.opts, start: [nodeId, ''], end: [nodeId, KEY_MAX] })) {
        const a = this.allocById(key[1]);
        if (a) out.push(a);
      }
      return out;
    }).slice();
  }

  allocsByJob(namespace: string, jobId: string): Allocation[] {
    const out: Allocation[] = [];
    for (const { key } of this.t.allocsByJob.getRange({ ...this.opts, start: [namespace, jobId, ''], end: [namespace, jobId, KEY_MAX] })) {
      const a = this.allocById(key[2]);
      if (a) out.push(a);
    }
    return out;
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

  /** Re-attach the job version an allocation runs. */
  protected hydrate(stored: StoredAlloc): Allocation {
    const { JobVersion, ...rest } = stored;
    const load = (): Job => {
      const job = this.jobVersion(stored.Namespace, stored.JobID, JobVersion);
      if (!job) throw new Error(`state inconsistency: allocation ${stored.ID} references missing job version ${stored.JobID}@${JobVersion}`);
      return job;
    };
    // A snapshot decodes each job version once (memoized) and must read inside its transaction.
    if (this.memo !== null) return { ...rest, Job: load() };
    // The live state attaches the job lazily: most readers (the plan applier's fit checks,
    // the FSM's status updates) never look at it, and decoding a whole job per allocation
    // dominated their cost. Spreading or serializing the allocation reads it.
    let job: Job | undefined;
    return Object.defineProperty(rest, 'Job', {
      get: () => (job ??= load()),
      set: (v: Job) => {
        job = v;
      },
      enumerable: true,
      configurable: true,
    }) as Allocation;
  }
}
