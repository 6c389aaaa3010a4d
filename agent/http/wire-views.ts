/**
 * The last step before an object goes on the wire: fields Nomad's API always sends but the
 * stored structs leave out or keep in another form. Stored jobs omit unset optional blocks
 * (Nomad sends `"Periodic": null`), evaluations carry no `AnnotatePlan`, job summaries no
 * `Children`, and driver health times are stored as Unix nanoseconds where Nomad sends an
 * RFC 3339 time. Clients and scripts written for Nomad read these fields unconditionally.
 */
import type { Allocation } from '../../structs/alloc.js';
import type { Evaluation } from '../../structs/eval.js';
import type { Job, JobSummary } from '../../structs/job.js';
import type { Node, NodeListStub } from '../../structs/node.js';

/** Nomad's JobChildrenSummary: the dispatched or periodic children of a job by status. */
export interface JobChildrenSummary {
  Pending: number;
  Running: number;
  Dead: number;
}

export type JobWire = Omit<Job, 'Periodic' | 'ParameterizedJob'> & {
  Periodic: Job['Periodic'] | null;
  ParameterizedJob: Job['ParameterizedJob'] | null;
  Payload: unknown;
};

export function jobView(job: Job): JobWire {
  return { ...job, Periodic: job.Periodic ?? null, ParameterizedJob: job.ParameterizedJob ?? null, Payload: (job as { Payload?: unknown }).Payload ?? null };
}

export function allocView(a: Allocation): Omit<Allocation, 'Job'> & { Job: JobWire } {
  return { ...a, Job: jobView(a.Job) };
}

export function evalView(ev: Evaluation): Evaluation & { AnnotatePlan: boolean } {
  return { AnnotatePlan: false, ...ev };
}

/** Counts `children` (jobs whose ParentID is the job) by status, as Nomad's summary does. */
export function childrenSummary(children: readonly Job[]): JobChildrenSummary {
  const out: JobChildrenSummary = { Pending: 0, Running: 0, Dead: 0 };
  for (const c of children) {
    if (c.Status === 'pending') out.Pending++;
    else if (c.Status === 'running') out.Running++;
    else out.Dead++;
  }
  return out;
}

export function summaryView(s: JobSummary, children: JobChildrenSummary): JobSummary & { Children: JobChildrenSummary } {
  return { ...s, Children: children };
}

type WireDrivers = Record<string, Omit<Node['Drivers'][string], 'UpdateTime'> & { UpdateTime: string }>;

function driversView(drivers: Node['Drivers']): WireDrivers {
  const out: WireDrivers = {};
  for (const [name, d] of Object.entries(drivers)) out[name] = { ...d, UpdateTime: rfc3339(d.UpdateTime) };
  return out;
}

/** Unix nanoseconds → RFC 3339 with nanoseconds, as Go's time.Time marshals. */
export function rfc3339(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  const frac = String(Math.round(ns % 1e6)).padStart(6, '0');
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, m: string) => `.${m}${frac}Z`);
}

/** A node as the API shows it: no SecretID (it never leaves the servers), Nomad's driver times. */
export function nodeView(n: Node): Omit<Node, 'Drivers'> & { Drivers: WireDrivers } {
  return { ...n, SecretID: '', Drivers: driversView(n.Drivers) };
}

export function nodeStubView(s: NodeListStub): Omit<NodeListStub, 'Drivers'> & { Drivers: WireDrivers } {
  return { ...s, Drivers: driversView(s.Drivers) };
}
