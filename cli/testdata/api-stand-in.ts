/**
 * A tiny HTTP server on 127.0.0.1:0 that answers the `/v1` endpoints the CLI uses the way
 * the agent does, for batch jobs: register creates a pending evaluation; shortly after, the
 * evaluation completes with one allocation per group (or fails placement), which goes
 * pending -> running -> complete (or failed). Blocking queries, prefix lists, error headers
 * and plain log streams behave as the API's. It stands in only until the CLI's tests can
 * drive the real agent.
 *
 * Behaviour per job, from its Meta: `fail = "true"` makes the allocation fail;
 * `unplaceable = "true"` makes placement fail on memory.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AllocListStub, Allocation, TaskState } from '../../structs/alloc.js';
import { allocStub } from '../../structs/alloc.js';
import type { Evaluation } from '../../structs/eval.js';
import { newAllocMetric } from '../../structs/eval.js';
import type { Job, JobListStub, JobSummary } from '../../structs/job.js';

export interface StandIn {
  address: string;
  /** Every request's method and URL (path + query), in order. */
  requests: string[];
  /** Simulated stdout of each allocation. */
  logs: Map<string, string>;
  close(): Promise<void>;
}

const NODE_ID = '1f2c3d4e-0000-4000-8000-000000000001';
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

  function setAllocStatus(a: Allocation, status: Allocation['ClientStatus'], desc: string): void {
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
    later(STEP_MS, () => {
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
          later(STEP_MS, () => {
            setAllocStatus(a, 'running', 'Tasks are running');
            later(STEP_MS, () => {
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
    });
  }

  function register(body: unknown): unknown {
    const job = (body as { Job: Job }).Job;
    const prev = jobs.get(job.ID);
    const stored: Job = { ...job, Version: prev === undefined ? 0 : prev.Version + 1, Status: 'pending', SubmitTime: BASE_NS, Meta: job.Meta ?? {} };
    stored.CreateIndex = prev?.CreateIndex ?? changed();
    stored.JobModifyIndex = stored.ModifyIndex = changed();
    jobs.set(job.ID, stored);
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
    const jobAllocs = (jobId: string): AllocListStub[] => [...allocs.values()].filter((a) => a.JobID === jobId).map(allocStub);
    const allocIndex = (jobId: string): number => Math.max(0, ...[...allocs.values()].filter((a) => a.JobID === jobId).map((a) => a.ModifyIndex));

    if (req.method === 'POST' && kind === 'jobs') return send(res, 200, register(JSON.parse(body)));
    if (req.method === 'DELETE' && kind === 'job') return deregister(res, id ?? '', url.searchParams.get('purge') === 'true');
    if (req.method !== 'GET') return send(res, 405, 'method not allowed', 'method_not_allowed');
    switch (kind) {
      case 'jobs':
        return send(res, 200, [...jobs.values()].filter((j) => j.ID.startsWith(prefix)).map(jobStub));
      case 'job': {
        const job = jobs.get(id ?? '');
        if (job === undefined) return send(res, 404, 'job not found', 'not_found');
        if (sub === undefined) return send(res, 200, job);
        if (sub === 'summary') return send(res, 200, summary(job));
        if (sub === 'evaluations') return send(res, 200, [...evals.values()].filter((e) => e.JobID === job.ID));
        if (sub === 'allocations') {
          await blocking(url, () => allocIndex(job.ID));
          return send(res, 200, jobAllocs(job.ID));
        }
        break;
      }
      case 'evaluation': {
        const ev = evals.get(id ?? '');
        if (ev === undefined) return send(res, 404, 'eval not found', 'not_found');
        if (sub === 'allocations') return send(res, 200, [...allocs.values()].filter((a) => a.EvalID === ev.ID).map(allocStub));
        await blocking(url, () => ev.ModifyIndex);
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
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const w of waiters) w();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
