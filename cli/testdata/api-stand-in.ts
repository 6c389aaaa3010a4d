/**
 * A tiny HTTP server on 127.0.0.1:0 that answers the `/v1` endpoints the CLI uses the way
 * the agent does, for batch jobs: register creates a pending evaluation; shortly after, the
 * evaluation completes with one allocation per group (or fails placement), which goes
 * pending -> running -> complete (or failed). Blocking queries, prefix lists, error headers
 * and plain log streams behave as the API's. It stands in only until the CLI's tests can
 * drive the real agent.
 *
 * Behaviour per job, from its Meta: `fail = "true"` makes the allocation fail;
 * `unplaceable = "true"` makes placement fail on memory; `long = "true"` keeps the
 * allocation running until it is stopped (alloc stop, a node drain).
 *
 * One client node (NODE_ID) serves as the local agent's node; a drain marks its running
 * allocations for migration, stops them a step later and then ends. Plans, versions,
 * revert, evaluate, eligibility, raft and scheduler configuration and system GC answer in
 * Nomad's shapes. Paths in `missing` answer 404 as a router without that route does.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AllocListStub, Allocation, TaskState } from '../../structs/alloc.js';
import { allocStub } from '../../structs/alloc.js';
import type { Evaluation } from '../../structs/eval.js';
import { newAllocMetric } from '../../structs/eval.js';
import type { Job, JobListStub, JobSummary } from '../../structs/job.js';
import type { Node } from '../../structs/node.js';
import type { SchedulerConfiguration } from '../../api/operator.js';
import { node as nodeFixture } from './fixtures.js';
import { planJob, versionDiff } from './stand-in-plan.js';

export interface StandIn {
  address: string;
  /** Every request's method and URL (path + query), in order. */
  requests: string[];
  /** Simulated stdout of each allocation. */
  logs: Map<string, string>;
  /** Route patterns (e.g. "PUT /v1/system/gc") to answer as unknown, like an agent without them. */
  missing: Set<string>;
  close(): Promise<void>;
}

export const NODE_ID = '1f2c3d4e-0000-4000-8000-000000000001';
const BASE_NS = Date.parse('2026-11-22T09:59:00Z') * 1e6;
/** Time between state changes: long enough that the CLI sees every state, short for tests. */
const STEP_MS = 100;

export async function startStandIn(): Promise<StandIn> {
  let index = 100;
  let ids = 0;
  const jobs = new Map<string, Job>();
  const evals = new Map<string, Evaluation>();
  const allocs = new Map<string, Allocation>();
  const logs = new Map<string, string>();
  const requests: string[] = [];
  let waiters: Array<() => void> = [];
  const timers = new Set<NodeJS.Timeout>();
  const versions = new Map<string, Job[]>();
  /** Evaluations a monitor has read (their allocations are followed), and allocations it has seen since they last changed. */
  const watched = new Set<string>();
  const seen = new Set<string>();
  const seenEvals = new Set<string>();
  const missing = new Set<string>();
  const node: Node = nodeFixture({ ID: NODE_ID, Name: 'node1', CreateIndex: 1, ModifyIndex: 1 });
  let schedulerConfig: SchedulerConfiguration = {
    SchedulerAlgorithm: 'binpack', MemoryOversubscriptionEnabled: false, RejectJobRegistration: false, PauseEvalBroker: false,
    PreemptionConfig: { SystemSchedulerEnabled: true, SysBatchSchedulerEnabled: false, BatchSchedulerEnabled: false, ServiceSchedulerEnabled: false },
    CreateIndex: 5, ModifyIndex: 5,
  };

  const uuid = (prefix: string): string => {
    ids++;
    return `${prefix}${String(ids).padStart(4, '0')}-0000-4000-8000-${String(ids).padStart(12, '0')}`;
  };
  const changed = (): number => {
    index++;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
    return index;
  };
  const later = (ms: number, f: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    timers.add(t);
  };

  function taskState(state: TaskState['State'], failed: boolean, events: Array<[string, string]>): TaskState {
    return {
      State: state,
      Failed: failed,
      Restarts: 0,
      LastRestart: null,
      StartedAt: state === 'pending' ? null : '2026-11-22T09:59:01Z',
      FinishedAt: state === 'dead' ? '2026-11-22T09:59:02Z' : null,
      Events: events.map(([Type, DisplayMessage], i) => ({
        Type,
        Time: BASE_NS + i * 1e9,
        Message: '',
        DisplayMessage,
        Details: {},
        FailsTask: false,
        ExitCode: 0,
        Signal: 0,
        RestartReason: '',
        DriverError: '',
        KillTimeout: 0,
      })),
    };
  }

  /**
   * The next client status comes a step later; while a monitor follows the job with blocking
   * queries it also waits (up to a bound) until that monitor has been shown the current one,
   * so a loaded test machine cannot make the CLI skip a state it is expected to print.
   */
  function afterSeen(a: Allocation, f: () => void): void {
    const giveUp = Date.now() + 1500;
    const check = (): void => {
      if (!watched.has(a.EvalID) || seen.has(a.ID) || Date.now() > giveUp) f();
      else later(10, check);
    };
    later(STEP_MS, check);
  }

  function setAllocStatus(a: Allocation, status: Allocation['ClientStatus'], desc: string): void {
    seen.delete(a.ID);
    a.ClientStatus = status;
    a.ClientDescription = desc;
    const task = a.Job.TaskGroups.find((g) => g.Name === a.TaskGroup)?.Tasks[0]?.Name ?? 'task';
    const ev: Array<[string, string]> = [['Received', 'Task received by client']];
    if (status !== 'pending') ev.push(['Started', 'Task started by client']);
    if (status === 'complete') ev.push(['Terminated', 'Exit Code: 0']);
    if (status === 'failed') ev.push(['Terminated', 'Exit Code: 1'], ['Not Restarting', 'Error was unrecoverable']);
    const state = status === 'running' ? 'running' : status === 'pending' ? 'pending' : 'dead';
    a.TaskStates = { [task]: taskState(state, status === 'failed', ev) };
    a.ModifyIndex = changed();
    a.ModifyTime = BASE_NS + a.ModifyIndex * 1e6;
  }

  function schedule(job: Job, ev: Evaluation): void {
    // A monitor must get to see the evaluation pending; without one (-detach) it goes on soon.
    const giveUp = Date.now() + 1500;
    const whenSeen = (f: () => void): (() => void) => {
      const check = (): void => {
        if (seenEvals.has(ev.ID) || Date.now() > giveUp) f();
        else later(10, check);
      };
      return check;
    };
    later(STEP_MS, whenSeen(() => {
      if (job.Meta['unplaceable'] === 'true') {
        const m = { ...newAllocMetric(), NodesEvaluated: 1, NodesExhausted: 1, DimensionExhausted: { memory: 1 }, NodesAvailable: { dc1: 1 } };
        const blocked = uuid('b10c');
        ev.FailedTGAllocs = Object.fromEntries(job.TaskGroups.map((g) => [g.Name, m]));
        ev.BlockedEval = blocked;
      } else {
        for (const g of job.TaskGroups) {
          const id = uuid('a110');
          const a: Allocation = {
            ID: id, Namespace: job.Namespace, EvalID: ev.ID, Name: `${job.ID}.${g.Name}[0]`, NodeID: NODE_ID, NodeName: 'node1',
            JobID: job.ID, Job: job, TaskGroup: g.Name,
            AllocatedResources: { Tasks: {}, Shared: { DiskMB: 300, Networks: [], Ports: [] } },
            Metrics: newAllocMetric(), DesiredStatus: 'run', DesiredDescription: '', DesiredTransition: {},
            ClientStatus: 'pending', ClientDescription: '', TaskStates: {}, DeploymentID: '', PreviousAllocation: '',
            NextAllocation: '', FollowupEvalID: '', RescheduleTracker: null, CreateIndex: index + 1, ModifyIndex: 0,
            AllocModifyIndex: 0, CreateTime: BASE_NS, ModifyTime: BASE_NS,
          };
          allocs.set(id, a);
          logs.set(id, `hello from ${job.ID}\nline 2\nline 3\n`);
          setAllocStatus(a, 'pending', 'No tasks have started');
          afterSeen(a, () => {
            // Stopped meanwhile (alloc stop, a drain): the stop decides what happens next.
            if (a.DesiredStatus !== 'run') return;
            setAllocStatus(a, 'running', 'Tasks are running');
            if (job.Meta['long'] === 'true') return;
            afterSeen(a, () => {
              if (a.DesiredStatus !== 'run') return;
              const fail = job.Meta['fail'] === 'true';
              logs.set(id, `${logs.get(id) ?? ''}done\n`);
              setAllocStatus(a, fail ? 'failed' : 'complete', fail ? 'Failed tasks' : 'All tasks have completed');
              job.Status = 'dead';
            });
          });
        }
        job.Status = 'running';
      }
      ev.Status = 'complete';
      ev.ModifyIndex = changed();
    }));
  }

  function register(body: unknown): unknown {
    const job = (body as { Job: Job }).Job;
    const prev = jobs.get(job.ID);
    const stored: Job = { ...job, Version: prev === undefined ? 0 : prev.Version + 1, Status: 'pending', SubmitTime: BASE_NS, Meta: job.Meta ?? {} };
    stored.CreateIndex = prev?.CreateIndex ?? changed();
    stored.JobModifyIndex = stored.ModifyIndex = changed();
    jobs.set(job.ID, stored);
    versions.set(job.ID, [stored, ...(versions.get(job.ID) ?? [])]);
    const ev: Evaluation = {
      ID: uuid('e0a1'), Namespace: stored.Namespace, Priority: stored.Priority, Type: stored.Type, TriggeredBy: 'job-register',
      JobID: stored.ID, JobModifyIndex: stored.JobModifyIndex, NodeID: '', NodeModifyIndex: 0, DeploymentID: '', Status: 'pending',
      StatusDescription: '', Wait: 0, WaitUntil: 0, NextEval: '', PreviousEval: '', BlockedEval: '', FailedTGAllocs: null,
      ClassEligibility: null, EscapedComputedClass: false, QueuedAllocations: {}, SnapshotIndex: 0, CreateIndex: changed(),
      ModifyIndex: index, CreateTime: BASE_NS, ModifyTime: BASE_NS,
    };
    evals.set(ev.ID, ev);
    schedule(stored, ev);
    return { EvalID: ev.ID, EvalCreateIndex: ev.CreateIndex, JobModifyIndex: stored.JobModifyIndex, Warnings: '', Index: ev.CreateIndex };
  }

  /** A new evaluation of a job that completes a step later without placing anything. */
  function quietEval(jobId: string, triggeredBy: Evaluation['TriggeredBy'], nodeId = ''): Evaluation {
    const job = jobs.get(jobId);
    const ev: Evaluation = {
      ID: uuid('e0a1'), Namespace: job?.Namespace ?? 'default', Priority: job?.Priority ?? 50, Type: job?.Type ?? 'service', TriggeredBy: triggeredBy,
      JobID: jobId, JobModifyIndex: job?.JobModifyIndex ?? 0, NodeID: nodeId, NodeModifyIndex: 0, DeploymentID: '', Status: 'pending',
      StatusDescription: '', Wait: 0, WaitUntil: 0, NextEval: '', PreviousEval: '', BlockedEval: '', FailedTGAllocs: null,
      ClassEligibility: null, EscapedComputedClass: false, QueuedAllocations: {}, SnapshotIndex: 0, CreateIndex: changed(),
      ModifyIndex: index, CreateTime: BASE_NS, ModifyTime: BASE_NS,
    };
    evals.set(ev.ID, ev);
    later(STEP_MS, () => {
      ev.Status = 'complete';
      ev.ModifyIndex = changed();
    });
    return ev;
  }

  /** Stops a running allocation: desired stop at once, the client reports it complete a step later. */
  function stopAlloc(a: Allocation, migrate: boolean): void {
    a.DesiredStatus = 'stop';
    if (migrate) a.DesiredTransition = { Migrate: true };
    a.ModifyIndex = changed();
    later(STEP_MS, () => setAllocStatus(a, 'complete', 'All tasks have completed'));
  }

  /** Drain: mark for migration now, stop a step later, end the drain once all have stopped. */
  function drain(): void {
    const running = [...allocs.values()].filter((a) => a.NodeID === NODE_ID && a.DesiredStatus === 'run' && (a.ClientStatus === 'running' || a.ClientStatus === 'pending'));
    for (const a of running) {
      a.DesiredTransition = { Migrate: true };
      a.ModifyIndex = changed();
    }
    later(STEP_MS, () => {
      for (const a of running) stopAlloc(a, true);
      later(STEP_MS * 2, () => {
        node.DrainStrategy = null;
        node.Drain = false;
        node.ModifyIndex = changed();
      });
    });
  }

  /** Stops the job's allocations at once and answers with a completed deregister eval. */
  function deregister(res: ServerResponse, jobId: string, purge: boolean): void {
    const job = jobs.get(jobId);
    if (job === undefined) return send(res, 404, 'job not found', 'not_found');
    job.Stop = true;
    job.Status = 'dead';
    for (const a of allocs.values()) if (a.JobID === jobId) a.DesiredStatus = 'stop';
    if (purge) jobs.delete(jobId);
    const ev: Evaluation = { ...[...evals.values()][0]!, ID: uuid('e0a1'), TriggeredBy: 'job-deregister', JobID: jobId, Status: 'complete', FailedTGAllocs: null, BlockedEval: '', CreateIndex: changed(), ModifyIndex: index };
    evals.set(ev.ID, ev);
    send(res, 200, { EvalID: ev.ID, EvalCreateIndex: ev.CreateIndex, JobModifyIndex: index, Index: index });
  }

  function summary(job: Job): JobSummary {
    const s: JobSummary = { JobID: job.ID, Namespace: job.Namespace, Summary: {}, CreateIndex: job.CreateIndex, ModifyIndex: index };
    for (const g of job.TaskGroups) s.Summary[g.Name] = { Queued: 0, Complete: 0, Failed: 0, Running: 0, Starting: 0, Lost: 0, Unknown: 0 };
    for (const a of allocs.values()) {
      const t = a.JobID === job.ID ? s.Summary[a.TaskGroup] : undefined;
      if (t === undefined) continue;
      if (a.ClientStatus === 'pending') t.Starting++;
      if (a.ClientStatus === 'running') t.Running++;
      if (a.ClientStatus === 'complete') t.Complete++;
      if (a.ClientStatus === 'failed') t.Failed++;
    }
    return s;
  }

  function jobStub(j: Job): JobListStub {
    return {
      ID: j.ID, ParentID: '', Name: j.Name, Namespace: j.Namespace, Datacenters: j.Datacenters, NodePool: j.NodePool, Type: j.Type,
      Priority: j.Priority, Periodic: false, ParameterizedJob: false, Stop: j.Stop, Status: j.Status, StatusDescription: '',
      JobSummary: summary(j), CreateIndex: j.CreateIndex, ModifyIndex: j.ModifyIndex, JobModifyIndex: j.JobModifyIndex, SubmitTime: j.SubmitTime,
    };
  }

  /** Answers a GET once the state index passes `?index` (or `wait` runs out), as the API does. */
  async function blocking(url: URL, current: () => number): Promise<void> {
    const min = Number(url.searchParams.get('index') ?? '0');
    const wait = url.searchParams.get('wait') ?? '0s';
    const waitMs = wait.endsWith('ms') ? Number(wait.slice(0, -2)) : Number(wait.slice(0, -1)) * 1000;
    const deadline = Date.now() + Math.min(waitMs, 2000);
    while (current() <= min && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  function nodeStub(n: Node): Record<string, unknown> {
    return {
      ID: n.ID, Datacenter: n.Datacenter, Name: n.Name, Address: '127.0.0.1', NodeClass: n.NodeClass, NodePool: n.NodePool, Version: '0.1.0',
      Drain: n.Drain, SchedulingEligibility: n.SchedulingEligibility, Status: n.Status, StatusDescription: '', Drivers: n.Drivers,
      CreateIndex: n.CreateIndex, ModifyIndex: n.ModifyIndex,
    };
  }

  /** POST/PUT routes; undefined when none matches. */
  function write(method: string, url: URL, parts: string[], body: string, res: ServerResponse): boolean {
    const [, kind, id, sub] = parts;
    const json = (): Record<string, unknown> => (body === '' ? {} : (JSON.parse(body) as Record<string, unknown>));
    if (method === 'POST' && kind === 'job' && sub !== undefined) {
      const job = jobs.get(id ?? '');
      if (sub === 'plan') {
        const next = (json() as { Job: Job }).Job;
        send(res, 200, planJob({ ...next, Meta: next.Meta ?? {} }, job, job?.JobModifyIndex ?? 0));
        return true;
      }
      if (job === undefined) {
        send(res, 404, 'job not found', 'not_found');
        return true;
      }
      if (sub === 'revert') {
        const want = Number(json()['JobVersion']);
        const old = (versions.get(job.ID) ?? []).find((v) => v.Version === want);
        if (old === undefined) send(res, 400, `job "${job.ID}" has no version ${want}`, 'invalid_argument');
        else send(res, 200, register({ Job: old }));
        return true;
      }
      if (sub === 'evaluate') {
        const ev = quietEval(job.ID, 'job-register');
        send(res, 200, { EvalID: ev.ID, EvalCreateIndex: ev.CreateIndex, JobModifyIndex: job.JobModifyIndex, Index: index });
        return true;
      }
    }
    if (method === 'POST' && kind === 'allocation' && sub === 'stop') {
      const a = allocs.get(id ?? '');
      if (a === undefined) {
        send(res, 404, 'alloc not found', 'not_found');
        return true;
      }
      stopAlloc(a, true);
      send(res, 200, { EvalID: quietEval(a.JobID, 'alloc-stop').ID, Index: index });
      return true;
    }
    if (method === 'POST' && kind === 'node' && (sub === 'drain' || sub === 'eligibility')) {
      if (id !== NODE_ID) {
        send(res, 404, 'node not found', 'not_found');
        return true;
      }
      const b = json();
      if (sub === 'eligibility') {
        node.SchedulingEligibility = b['Eligibility'] === 'eligible' ? 'eligible' : 'ineligible';
      } else if (b['DrainSpec'] === null || b['DrainSpec'] === undefined) {
        node.DrainStrategy = null;
        node.Drain = false;
        if (b['MarkEligible'] === true) node.SchedulingEligibility = 'eligible';
      } else {
        const spec = b['DrainSpec'] as { Deadline: number; IgnoreSystemJobs: boolean };
        node.DrainStrategy = { Deadline: spec.Deadline, IgnoreSystemJobs: spec.IgnoreSystemJobs, ForceDeadline: 0, StartedAt: BASE_NS };
        node.Drain = true;
        node.SchedulingEligibility = 'ineligible';
        drain();
      }
      node.ModifyIndex = changed();
      send(res, 200, { EvalIDs: [], EvalCreateIndex: 0, NodeModifyIndex: node.ModifyIndex, Index: index });
      return true;
    }
    if (method === 'PUT' && kind === 'operator' && id === 'scheduler' && sub === 'configuration') {
      const cas = url.searchParams.get('cas');
      if (cas !== null && Number(cas) !== schedulerConfig.ModifyIndex) {
        send(res, 200, { Updated: false, Index: index });
        return true;
      }
      schedulerConfig = { ...(json() as unknown as SchedulerConfiguration), CreateIndex: schedulerConfig.CreateIndex, ModifyIndex: changed() };
      send(res, 200, { Updated: true, Index: index });
      return true;
    }
    if (method === 'PUT' && kind === 'system' && id === 'gc') {
      for (const [evId, ev] of evals) if (ev.Status === 'complete' && ![...allocs.values()].some((a) => a.EvalID === evId)) evals.delete(evId);
      send(res, 200, null);
      return true;
    }
    return false;
  }

  function send(res: ServerResponse, status: number, body: unknown, code?: string): void {
    if (status >= 400) {
      res.writeHead(status, { 'Content-Type': 'text/plain', ...(code ? { 'X-Yurt-Error-Code': code } : {}) });
      res.end(String(body));
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json', 'X-Nomad-Index': String(index), 'X-Nomad-KnownLeader': 'true', 'X-Nomad-LastContact': '0' });
    res.end(JSON.stringify(body));
  }

  async function streamLogs(res: ServerResponse, url: URL, allocId: string): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    const text = url.searchParams.get('type') === 'stderr' ? '' : (logs.get(allocId) ?? '');
    const offset = Number(url.searchParams.get('offset') ?? '0');
    let sent = url.searchParams.get('origin') === 'end' ? Math.max(0, text.length - offset) : Math.min(offset, text.length);
    res.write(text.slice(sent));
    sent = text.length;
    if (url.searchParams.get('follow') !== 'true') {
      res.end();
      return;
    }
    for (;;) {
      const a = allocs.get(allocId);
      const now = logs.get(allocId) ?? '';
      if (now.length > sent) {
        res.write(now.slice(sent));
        sent = now.length;
      }
      if (a === undefined || a.ClientStatus === 'complete' || a.ClientStatus === 'failed' || res.destroyed) break;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    res.end();
  }

  async function route(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    requests.push(`${req.method ?? ''} ${url.pathname}${url.search}`);
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const prefix = url.searchParams.get('prefix') ?? '';
    const [, kind, id, sub] = parts;
    const pattern = `${req.method ?? ''} /${parts.map((p, i) => (i === 2 && (kind === 'job' || kind === 'node' || kind === 'allocation') ? ':id' : p)).join('/')}`;
    if (missing.has(pattern)) return send(res, 404, 'Invalid URL path', 'not_found');
    const jobAllocs = (jobId: string): AllocListStub[] => [...allocs.values()].filter((a) => a.JobID === jobId).map(allocStub);
    const allocIndex = (jobId: string): number => Math.max(0, ...[...allocs.values()].filter((a) => a.JobID === jobId).map((a) => a.ModifyIndex));

    if (req.method === 'POST' && kind === 'jobs') {
      const reg = JSON.parse(body) as { Job: Job; EnforceIndex?: boolean; JobModifyIndex?: number };
      const have = jobs.get(reg.Job.ID)?.JobModifyIndex ?? 0;
      // Nomad's check-and-set on register: index 0 means "must not exist yet".
      if (reg.EnforceIndex === true && have !== (reg.JobModifyIndex ?? 0)) {
        const why = reg.JobModifyIndex === 0 ? 'job already exists' : `job exists with conflicting job modify index: ${have}`;
        return send(res, 400, `Enforcing job modify index ${reg.JobModifyIndex ?? 0}: ${why}`, 'conflict');
      }
      return send(res, 200, register(reg));
    }
    if (req.method === 'DELETE' && kind === 'job') return deregister(res, id ?? '', url.searchParams.get('purge') === 'true');
    if (req.method !== 'GET') {
      if (write(req.method ?? '', url, parts, body, res)) return;
      return send(res, 405, 'method not allowed', 'method_not_allowed');
    }
    switch (kind) {
      case 'jobs':
        return send(res, 200, [...jobs.values()].filter((j) => j.ID.startsWith(prefix)).map(jobStub));
      case 'job': {
        const job = jobs.get(id ?? '');
        if (job === undefined) return send(res, 404, 'job not found', 'not_found');
        if (sub === undefined) return send(res, 200, job);
        if (sub === 'summary') return send(res, 200, summary(job));
        if (sub === 'versions') {
          const vs = versions.get(job.ID) ?? [];
          const diffs = url.searchParams.get('diffs') === 'true' ? vs.slice(0, -1).map((v, i) => versionDiff(v, vs[i + 1] ?? v)) : null;
          return send(res, 200, { Versions: vs, Diffs: diffs });
        }
        if (sub === 'evaluations') return send(res, 200, [...evals.values()].filter((e) => e.JobID === job.ID));
        if (sub === 'allocations') {
          await blocking(url, () => allocIndex(job.ID));
          const list = jobAllocs(job.ID);
          for (const a of list) seen.add(a.ID);
          return send(res, 200, list);
        }
        break;
      }
      case 'evaluation': {
        const ev = evals.get(id ?? '');
        if (ev === undefined) return send(res, 404, 'eval not found', 'not_found');
        if (sub === 'allocations') {
          const list = [...allocs.values()].filter((a) => a.EvalID === ev.ID).map(allocStub);
          for (const a of list) seen.add(a.ID);
          return send(res, 200, list);
        }
        // Monitors start by reading the evaluation, before they block on anything.
        watched.add(ev.ID);
        await blocking(url, () => ev.ModifyIndex);
        seenEvals.add(ev.ID);
        return send(res, 200, ev);
      }
      case 'evaluations':
        return send(res, 200, [...evals.values()].filter((e) => e.ID.startsWith(prefix)));
      case 'allocations':
        return send(res, 200, [...allocs.values()].filter((a) => a.ID.startsWith(prefix)).map(allocStub));
      case 'allocation': {
        const a = allocs.get(id ?? '');
        return a === undefined ? send(res, 404, 'alloc not found', 'not_found') : send(res, 200, a);
      }
      case 'nodes':
        return send(res, 200, [node].filter((n) => n.ID.startsWith(prefix)).map(nodeStub));
      case 'deployments':
        // Batch jobs make no deployments: nothing matches.
        return send(res, 200, []);
      case 'node': {
        if (id !== NODE_ID) return send(res, 404, 'node not found', 'not_found');
        if (sub === 'allocations') {
          await blocking(url, () => Math.max(0, ...[...allocs.values()].filter((a) => a.NodeID === NODE_ID).map((a) => a.ModifyIndex)));
          return send(res, 200, [...allocs.values()].filter((a) => a.NodeID === NODE_ID));
        }
        return send(res, 200, node);
      }
      case 'agent':
        if (id === 'self') {
          return send(res, 200, {
            config: { Region: 'global', Datacenter: 'dc1' },
            member: { Name: 'server1.global', Addr: '127.0.0.1', Port: 4648, Tags: {}, Status: 'alive' },
            stats: { client: { node_id: NODE_ID, known_servers: '127.0.0.1:4647' }, nomad: { leader: 'true', server: 'true' }, raft: { state: 'Leader' } },
          });
        }
        break;
      case 'operator':
        if (id === 'raft' && sub === 'configuration') {
          return send(res, 200, {
            Index: 7,
            Servers: [
              { ID: 's1', Node: 'server1.global', Address: '127.0.0.1:4647', Leader: true, Voter: true, RaftProtocol: '3' },
              { ID: 's2', Node: 's2', Address: '127.0.0.2:4647', Leader: false, Voter: true, RaftProtocol: '3' },
            ],
          });
        }
        if (id === 'scheduler' && sub === 'configuration') return send(res, 200, { SchedulerConfig: schedulerConfig, Index: schedulerConfig.ModifyIndex });
        break;
      case 'client':
        if (id === 'fs' && sub === 'logs') {
          const allocId = parts[4] ?? '';
          if (!allocs.has(allocId)) return send(res, 404, 'Unknown allocation', 'not_found');
          return streamLogs(res, url, allocId);
        }
        break;
      default:
        break;
    }
    send(res, 404, `no handler for ${url.pathname}`, 'not_found');
  }

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      route(req, res, body).catch((err: unknown) => send(res, 500, String(err), 'internal'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    requests,
    logs,
    missing,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const w of waiters) w();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
