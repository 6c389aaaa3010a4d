/**
 * Read access to the cluster state, either at the latest committed index or through a
 * consistent snapshot (an LMDB read transaction). Schedulers only ever see a snapshot, so a
 * plan is computed against one coherent view, never a half-applied one.
 */
import type { RootDatabase, Database, Transaction } from 'lmdb';
import type { Allocation } from '../../../structs/alloc.js';
import type { Evaluation } from '../../../structs/eval.js';
import type { Job } from '../../../structs/job.js';
import type { Node } from '../../../structs/node.js';
import { defaultSchedulerConfig, type SchedulerConfiguration } from '../scheduler-config.js';

export const TABLES = ['jobs', 'job_versions', 'nodes', 'evals', 'allocs', 'scheduler_config'] as const;
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
}

/** A StateReader bound to one read transaction (or to the latest state when `txn` is undefined). */
export class TableReader implements StateReader {
  constructor(
    protected readonly t: StateTables,
    private readonly txn: Transaction | undefined,
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
    return this.t.jobVersions.get([namespace, id, version], this.opts) ?? null;
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
    return this.t.nodes.get(id, this.opts) ?? null;
  }

  nodes(prefix = ''): Node[] {
    const out: Node[] = [];
    for (const { value } of this.t.nodes.getRange({ ...this.opts, start: prefix, end: prefix + KEY_MAX })) out.push(value);
    return out;
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
    const stored = this.t.allocs.get(id, this.opts);
    return stored ? this.hydrate(stored) : null;
  }

  allocs(prefix = ''): Allocation[] {
    const out: Allocation[] = [];
    for (const { value } of this.t.allocs.getRange({ ...this.opts, start: prefix, end: prefix + KEY_MAX })) out.push(this.hydrate(value));
    return out;
  }

  allocsByNode(nodeId: string): Allocation[] {
    const out: Allocation[] = [];
    for (const { key } of this.t.allocsByNode.getRange({ ...this.opts, start: [nodeId, ''], end: [nodeId, KEY_MAX] })) {
      const a = this.allocById(key[1]);
      if (a) out.push(a);
    }
    return out;
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

  /** Re-attach the job version an allocation runs. */
  protected hydrate(stored: StoredAlloc): Allocation {
    const { JobVersion, ...rest } = stored;
    const job = this.jobVersion(stored.Namespace, stored.JobID, JobVersion);
    if (!job) throw new Error(`state inconsistency: allocation ${stored.ID} references missing job version ${stored.JobID}@${JobVersion}`);
    return { ...rest, Job: job };
  }
}
