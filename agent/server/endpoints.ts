/**
 * The server's write endpoints, reached over RPC (clients, other servers) and directly by the
 * local HTTP API. A non-leader forwards each write to the leader over RPC, so any server
 * accepts any request. Also keeps the allocation watch: a client's connection gets its
 * allocations pushed as soon as a change to them commits.
 */
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import type { Allocation, AllocClientUpdate } from '../../structs/alloc.js';
import type { Job, JobRegisterResponse } from '../../structs/job.js';
import type { Evaluation } from '../../structs/eval.js';
import type { DrainStrategy, Node, NodeStatus, SchedulingEligibility } from '../../structs/node.js';
import { NotLeaderError, YurtError } from '../../structs/errors.js';
import { assertValidJob } from '../../structs/job-validate.js';
import { parseJobJSON } from '../../structs/jobspec/index.js';
import { assertValidNode } from '../../structs/node-validate.js';
import { computedClass } from '../../scheduler/node-class.js';
import { RpcClient } from '../rpc/rpc-client.js';
import type { RpcConnection, RpcServer } from '../rpc/rpc-server.js';
import { argArray, argBool, argObject, argString, rpcArgs, type RpcArgs } from '../rpc/rpc-args.js';
import type { JobRegisterResult } from './fsm.js';
import { DeploymentEndpoints } from './deployment-endpoints.js';
import type { SchedulerConfiguration } from './scheduler-config.js';
import { nowNs, type Server } from './server.js';

export interface NodeRegisterResponse {
  HeartbeatTTLMs: number;
  Index: number;
  LeaderRpcAddr: string;
}

export interface AllocsPush {
  NodeID: string;
  Index: number;
  Allocs: Allocation[];
}

export interface JobDeregisterResponse {
  EvalID: string;
  EvalCreateIndex: number;
  JobModifyIndex: number;
  Index: number;
}

/** Nomad's NodeEligibilityUpdateResponse / NodeDrainUpdateResponse. */
export interface NodeUpdateResponse {
  EvalIDs: string[];
  EvalCreateIndex: number;
  NodeModifyIndex: number;
  Index: number;
}

/** Nomad's DrainSpec: Deadline in ns (< 0 forces at once, 0 means no deadline). */
export interface DrainSpec {
  Deadline: number;
  IgnoreSystemJobs: boolean;
}

export class ServerEndpoints {
  private readonly leaderClients = new Map<string, RpcClient>();
  /** Connections watching a node's allocations, and the highest AllocModifyIndex each has seen. */
  private readonly watchers = new Map<string, Map<RpcConnection, number>>();
  /** Deployment fail, pause, promote and allocation health (deployment-endpoints.ts). */
  readonly deployments: DeploymentEndpoints;

  constructor(
    private readonly server: Server,
    private readonly logger: Logger,
    /** Mutual TLS for connections to the leader. */
    private readonly rpcTls?: WebSocket.ClientOptions,
  ) {
    server.state.onChange((c) => {
      for (const nodeId of c.allocNodes) this.pushAllocs(nodeId);
    });
    this.deployments = new DeploymentEndpoints(server, (method, args) => this.forward(method, args));
  }

  register(rpc: RpcServer): void {
    const on = (method: string, h: (x: RpcArgs, conn: RpcConnection, m: string) => unknown): void => rpc.handle(method, (a, conn) => h(rpcArgs(a, method), conn, method));
    rpc.handle('Status.Ping', () => ({ ok: true }));
    // A job over RPC gets the same shape check as one over HTTP.
    on('Job.Register', (x, _c, m) => this.jobRegister(parseJobJSON({ Job: argObject<unknown>(x, 'Job', m) })));
    on('Job.Evaluate', (x, _c, m) => this.jobEvaluate(argString(x, 'Namespace', m), argString(x, 'JobID', m)));
    on('Job.Deregister', (x, _c, m) => this.jobDeregister(argString(x, 'Namespace', m), argString(x, 'JobID', m), argBool(x, 'Purge', m)));
    on('Node.Register', (x, _c, m) => this.nodeRegister(argObject<Node>(x, 'Node', m)));
    on('Node.UpdateStatus', (x, _c, m) => this.nodeUpdateStatus(argString(x, 'NodeID', m), argString(x, 'SecretID', m), argString(x, 'Status', m) as NodeStatus));
    on('Node.UpdateAlloc', (x, _c, m) => this.allocClientUpdate(argString(x, 'NodeID', m), argString(x, 'SecretID', m), argArray<AllocClientUpdate>(x, 'Allocs', m)));
    on('Node.UpdateEligibility', (x, _c, m) => this.nodeUpdateEligibility(argString(x, 'NodeID', m), argString(x, 'Eligibility', m) as SchedulingEligibility));
    on('Node.UpdateDrain', (x, _c, m) =>
      this.nodeUpdateDrain(argString(x, 'NodeID', m), x['DrainSpec'] === null || x['DrainSpec'] === undefined ? null : argObject<DrainSpec>(x, 'DrainSpec', m), argBool(x, 'MarkEligible', m)),
    );
    rpc.handle('System.GarbageCollect', () => this.systemGc());
    on('Operator.SchedulerSetConfiguration', (x, _c, m) => {
      const cas = x['CAS'];
      if (cas !== null && cas !== undefined && typeof cas !== 'number') throw new YurtError('invalid_argument', `${m}: CAS must be a number or null`);
      return this.schedulerSetConfig(argObject<Omit<SchedulerConfiguration, 'CreateIndex' | 'ModifyIndex'>>(x, 'Config', m), cas ?? null);
    });
    on('Node.WatchAllocs', (x, conn, m) => this.watchAllocs(conn, argString(x, 'NodeID', m), argString(x, 'SecretID', m)));
    this.deployments.register(on);
  }

  async jobRegister(job: Job): Promise<JobRegisterResponse> {
    assertValidJob(job);
    if (!this.server.isLeader()) return this.forward('Job.Register', { Job: job });
    const periodicOrParam = job.Periodic?.Enabled === true || job.ParameterizedJob !== undefined;
    const ev = periodicOrParam ? null : this.server.newEval(job, 'job-register');
    const res = (await this.server.applyCommand({ type: 'JobRegister', job, eval: ev, now: nowNs() })) as JobRegisterResult;
    return { EvalID: res.evalId, EvalCreateIndex: res.evalCreateIndex, JobModifyIndex: res.jobModifyIndex, Warnings: '', Index: res.evalCreateIndex || res.jobModifyIndex };
  }

  /** Nomad's Job.Evaluate: a fresh evaluation of the job as it stands. */
  async jobEvaluate(namespace: string, jobId: string): Promise<JobDeregisterResponse> {
    if (!this.server.isLeader()) return this.forward('Job.Evaluate', { Namespace: namespace, JobID: jobId });
    const job = this.server.state.jobById(namespace, jobId);
    if (!job) throw new YurtError('not_found', `job not found: ${jobId}`);
    if (job.Periodic?.Enabled === true || job.ParameterizedJob !== undefined) {
      throw new YurtError('invalid_argument', "can't evaluate periodic or parameterized job");
    }
    const ev = this.server.newEval(job, 'job-register');
    const res = (await this.server.applyCommand({ type: 'EvalUpsert', evals: [ev] })) as { index: number };
    return { EvalID: ev.ID, EvalCreateIndex: res.index, JobModifyIndex: job.JobModifyIndex, Index: res.index };
  }

  /** Nomad's Job.Revert: register an earlier version again (as a new version). */
  async jobRevert(namespace: string, jobId: string, version: number, enforcePriorVersion?: number): Promise<JobRegisterResponse> {
    const current = this.server.state.jobById(namespace, jobId);
    if (!current) throw new YurtError('not_found', `job not found: ${jobId}`);
    if (enforcePriorVersion !== undefined && current.Version !== enforcePriorVersion) {
      throw new YurtError('conflict', `current job has version ${current.Version}; enforcing version ${enforcePriorVersion}`);
    }
    if (version === current.Version) throw new YurtError('invalid_argument', `can't revert to current version ${version}`);
    const old = this.server.state.jobVersion(namespace, jobId, version);
    if (!old) throw new YurtError('not_found', `job ${jobId} has no version ${version}`);
    return this.jobRegister({ ...old, Stop: false });
  }

  async jobDeregister(namespace: string, jobId: string, purge: boolean): Promise<JobDeregisterResponse> {
    if (!this.server.isLeader()) return this.forward('Job.Deregister', { Namespace: namespace, JobID: jobId, Purge: purge });
    const job = this.server.state.jobById(namespace, jobId);
    if (!job) throw new YurtError('not_found', `job not found: ${jobId}`);
    const ev = this.server.newEval(job, 'job-deregister');
    const res = (await this.server.applyCommand({ type: 'JobDeregister', namespace, jobId, purge, eval: ev, now: nowNs() })) as { index: number };
    return { EvalID: ev.ID, EvalCreateIndex: res.index, JobModifyIndex: res.index, Index: res.index };
  }

  async nodeRegister(node: Node): Promise<NodeRegisterResponse> {
    assertValidNode(node);
    if (!this.server.isLeader()) return this.forward('Node.Register', { Node: node });
    const prev = this.server.state.nodeById(node.ID);
    if (prev && prev.SecretID !== node.SecretID) throw new YurtError('permission_denied', `node ${node.ID} is registered with another secret`);
    // The class is computed once here, as Nomad does, not by every scheduler for every node.
    const classed = { ...node, Status: 'ready' as const, ComputedClass: computedClass({ ...node, ComputedClass: '' }) };
    const res = (await this.server.applyCommand({ type: 'NodeRegister', node: classed, now: nowNs() })) as { index: number };
    const ttl = this.server.heartbeats.nextTtlMs();
    this.server.heartbeats.reset(node.ID, ttl);
    if (prev?.Status === 'down' || !prev) {
      // A node that (re)appears may be where system jobs and blocked placements go.
      const evals = this.server.nodeEvals(node.ID, 'node-update', res.index);
      if (evals.length > 0) await this.server.upsertEvals(evals);
    }
    return { HeartbeatTTLMs: ttl, Index: res.index, LeaderRpcAddr: this.server.opts.rpcAdvertise };
  }

  async nodeUpdateStatus(nodeId: string, secretId: string, status: NodeStatus): Promise<NodeRegisterResponse> {
    if (!this.server.isLeader()) return this.forward('Node.UpdateStatus', { NodeID: nodeId, SecretID: secretId, Status: status });
    const node = this.authNode(nodeId, secretId);
    let index = node.ModifyIndex;
    if (node.Status !== status) {
      const evals = status === 'ready' ? this.server.nodeEvals(nodeId, 'node-update', node.ModifyIndex) : [];
      const res = (await this.server.applyCommand({ type: 'NodeUpdateStatus', nodeId, status, evals, now: nowNs() })) as { index: number };
      index = res.index;
    }
    const ttl = this.server.heartbeats.nextTtlMs();
    this.server.heartbeats.reset(nodeId, ttl);
    return { HeartbeatTTLMs: ttl, Index: index, LeaderRpcAddr: this.server.opts.rpcAdvertise };
  }

  /** An operator marks a node (in)eligible for new placements; running allocations stay. */
  async nodeUpdateEligibility(nodeId: string, eligibility: SchedulingEligibility): Promise<NodeUpdateResponse> {
    if (eligibility !== 'eligible' && eligibility !== 'ineligible') {
      throw new YurtError('invalid_argument', `invalid scheduling eligibility "${String(eligibility)}": must be "eligible" or "ineligible"`);
    }
    if (!this.server.isLeader()) return this.forward('Node.UpdateEligibility', { NodeID: nodeId, Eligibility: eligibility });
    const node = this.server.state.nodeById(nodeId);
    if (!node) throw new YurtError('not_found', `node not found: ${nodeId}`);
    if (eligibility === 'eligible' && node.DrainStrategy !== null) {
      throw new YurtError('invalid_argument', 'can not set node\'s scheduling eligibility to eligible while it is draining');
    }
    // Becoming eligible may let system jobs and blocked placements land here.
    const evals = eligibility === 'eligible' && node.SchedulingEligibility !== 'eligible' ? this.server.nodeEvals(nodeId, 'node-update', node.ModifyIndex) : [];
    const res = (await this.server.applyCommand({ type: 'NodeUpdateEligibility', nodeId, eligibility, evals, now: nowNs() })) as { index: number };
    return { EvalIDs: evals.map((e) => e.ID), EvalCreateIndex: evals.length > 0 ? res.index : 0, NodeModifyIndex: res.index, Index: res.index };
  }

  /**
   * Start (spec given) or cancel (null) a drain. The drain itself is the leader's drainer's
   * work; this only records the strategy. Cancelling with `markEligible` makes the node
   * eligible again, otherwise it stays ineligible.
   */
  async nodeUpdateDrain(nodeId: string, spec: DrainSpec | null, markEligible: boolean): Promise<NodeUpdateResponse> {
    if (spec !== null && (typeof spec !== 'object' || !Number.isFinite(spec.Deadline))) {
      throw new YurtError('invalid_argument', 'DrainSpec.Deadline must be a number of nanoseconds');
    }
    if (!this.server.isLeader()) return this.forward('Node.UpdateDrain', { NodeID: nodeId, DrainSpec: spec, MarkEligible: markEligible });
    const node = this.server.state.nodeById(nodeId);
    if (!node) throw new YurtError('not_found', `node not found: ${nodeId}`);
    const now = nowNs();
    const drain: DrainStrategy | null =
      spec === null
        ? null
        : {
            Deadline: spec.Deadline,
            IgnoreSystemJobs: spec.IgnoreSystemJobs === true,
            // Nomad: a negative deadline forces the drain now; zero means no deadline.
            ForceDeadline: spec.Deadline < 0 ? now : spec.Deadline > 0 ? now + spec.Deadline : 0,
            StartedAt: node.DrainStrategy?.StartedAt ?? now,
          };
    const evals = drain === null && markEligible ? this.server.nodeEvals(nodeId, 'node-update', node.ModifyIndex) : [];
    const res = (await this.server.applyCommand({ type: 'NodeUpdateDrain', nodeId, drain, markEligible, evals, now })) as { index: number };
    return { EvalIDs: evals.map((e) => e.ID), EvalCreateIndex: evals.length > 0 ? res.index : 0, NodeModifyIndex: res.index, Index: res.index };
  }

  /** Run garbage collection now, ignoring thresholds (PUT /v1/system/gc). */
  async systemGc(): Promise<{ Index: number }> {
    if (!this.server.isLeader()) return this.forward('System.GarbageCollect', {});
    const index = await this.server.runGc(true);
    return { Index: index || this.server.state.latestIndex() };
  }

  /** Set the scheduler configuration; with `cas`, only if nobody changed it since that index. */
  async schedulerSetConfig(config: Omit<SchedulerConfiguration, 'CreateIndex' | 'ModifyIndex'>, cas: number | null): Promise<{ Updated: boolean; Index: number }> {
    if (!this.server.isLeader()) return this.forward('Operator.SchedulerSetConfiguration', { Config: config, CAS: cas });
    const r = (await this.server.applyCommand({ type: 'SchedulerSetConfig', config, cas })) as { index: number; updated: boolean };
    return { Updated: r.updated, Index: r.index };
  }

  async allocClientUpdate(nodeId: string, secretId: string, updates: AllocClientUpdate[]): Promise<{ Index: number }> {
    if (!this.server.isLeader()) return this.forward('Node.UpdateAlloc', { NodeID: nodeId, SecretID: secretId, Allocs: updates });
    this.authNode(nodeId, secretId);
    const owned = updates.filter((u) => this.server.state.allocById(u.ID)?.NodeID === nodeId);
    if (owned.length === 0) return { Index: this.server.state.latestIndex() };
    const res = (await this.server.applyCommand({ type: 'AllocClientUpdate', updates: owned, evals: this.healthEvals(owned), now: nowNs() })) as { index: number };
    return { Index: res.index };
  }

  /**
   * A rolling update moves on when the allocations it placed are judged healthy (or not).
   * Allocations of a deployment are the deployment watcher's (deployment-watcher.ts); those of
   * a system job's rolling update have none, and get their job evaluated again here, once per job.
   */
  private healthEvals(updates: AllocClientUpdate[]): Evaluation[] {
    const jobs = new Map<string, Job>();
    for (const u of updates) {
      if (u.DeploymentStatus?.Healthy == null) continue;
      const prev = this.server.state.allocById(u.ID);
      if (!prev || prev.DeploymentID !== '' || prev.DeploymentStatus?.Healthy === u.DeploymentStatus.Healthy) continue;
      const job = this.server.state.jobById(prev.Namespace, prev.JobID);
      if (!job || job.Stop) continue;
      jobs.set(`${job.Namespace}\u0000${job.ID}`, job);
    }
    return [...jobs.values()].map((job) => this.server.newEval(job, 'deployment-watcher'));
  }

  watchAllocs(conn: RpcConnection, nodeId: string, secretId: string): AllocsPush {
    this.authNode(nodeId, secretId);
    conn.nodeId = nodeId;
    const m = this.watchers.get(nodeId) ?? this.watchers.set(nodeId, new Map()).get(nodeId)!;
    const allocs = this.server.state.allocsByNode(nodeId);
    const index = Math.max(0, ...allocs.map((a) => a.AllocModifyIndex));
    m.set(conn, index);
    conn.onClose(() => {
      m.delete(conn);
      if (m.size === 0) this.watchers.delete(nodeId);
    });
    return { NodeID: nodeId, Index: index, Allocs: [...allocs] };
  }

  private pushAllocs(nodeId: string): void {
    const m = this.watchers.get(nodeId);
    if (!m) return;
    const allocs = this.server.state.allocsByNode(nodeId);
    for (const [conn, seen] of m) {
      const changed = allocs.filter((a) => a.AllocModifyIndex > seen);
      if (changed.length === 0) continue;
      const index = Math.max(seen, ...changed.map((a) => a.AllocModifyIndex));
      m.set(conn, index);
      conn.push('allocs', { NodeID: nodeId, Index: index, Allocs: changed } satisfies AllocsPush);
    }
  }

  private authNode(nodeId: string, secretId: string): Node {
    const node = this.server.state.nodeById(nodeId);
    if (!node) throw new YurtError('not_found', `node not found: ${nodeId}`);
    if (node.SecretID !== secretId) throw new YurtError('permission_denied', 'node secret does not match');
    return node;
  }

  /** Sends a request to the leader over RPC (this server is not the leader). */
  async forward<T>(method: string, args: unknown, timeoutMs?: number): Promise<T> {
    const addr = this.server.leaderRpcAddr();
    if (!addr) throw new YurtError('no_leader', 'No cluster leader');
    if (addr === this.server.opts.rpcAdvertise) throw new NotLeaderError();
    let c = this.leaderClients.get(addr);
    if (!c) {
      c = new RpcClient({ servers: [addr], logger: this.logger, ...(this.rpcTls ? { tls: this.rpcTls } : {}) });
      c.start();
      this.leaderClients.set(addr, c);
    }
    return c.call<T>(method, args, timeoutMs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.leaderClients.values()].map((c) => c.close()));
  }
}
