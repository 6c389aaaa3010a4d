/**
 * A yurt server: Raft + FSM + state store, and — while it leads — the evaluation broker,
 * blocked evaluations, plan applier, heartbeat timers, node drainer (node-drainer.ts) and the
 * garbage-collection core job (garbage-collector.ts). Scheduler workers run on every
 * server. Writes arrive through `ServerEndpoints` (RPC and the local HTTP API) and become
 * typed FSM commands applied through Raft; nothing writes state behind Raft's back.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { YURT_VERSION } from '../version.js';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { RaftNode, type Transport } from '../../consensus/raft-node.js';
import type { Evaluation, EvalTrigger } from '../../structs/eval.js';
import type { Job } from '../../structs/job.js';
import { NotLeaderError, YurtError } from '../../structs/errors.js';
import { BlockedEvals } from './blocked-evals.js';
import { EvalBroker } from './eval-broker.js';
import { encodeCommand, type FsmCommand } from './fsm-commands.js';
import { Fsm, type FsmResult } from './fsm.js';
import { DEFAULT_HEARTBEAT_CONFIG, HeartbeatTimers, type HeartbeatConfig } from './heartbeats.js';
import { collectGarbage, DEFAULT_GC_CONFIG, type GcConfig } from './garbage-collector.js';
import { NodeDrainer } from './node-drainer.js';
import { DeploymentWatcher } from './deployment-watcher.js';
import type { ServerMetricsSink } from './server-metrics.js';
import { PlanApplier } from './plan-applier.js';
import { StateStore } from './state/state-store.js';
import { Worker } from './worker.js';
import { ServerMembership, type ServerHello } from './server-membership.js';
import { localBackend, remoteBackend, type Forward, type SchedulingBackend } from './scheduling-backend.js';
import type { Plan, PlanResult } from '../../structs/plan.js';

export interface ServerOptions {
  /** Stable server ID (persisted by the agent). */
  id: string;
  name: string;
  region: string;
  datacenter: string;
  dataDir: string;
  /** host:port other servers and clients reach this server's RPC on. */
  rpcAdvertise: string;
  bootstrapExpect: number;
  /** server_join: addresses of other servers (host or host:port) to form or join a cluster with. */
  retryJoin?: string[];
  retryIntervalMs?: number;
  retryMax?: number;
  /** Port assumed for retry_join addresses without one (the RPC port). */
  defaultRpcPort?: number;
  /** Mutual TLS for connections to other servers. */
  rpcTls?: WebSocket.ClientOptions;
  numSchedulers: number;
  heartbeat?: Partial<HeartbeatConfig>;
  transport: Transport;
  logger: Logger;
  /** Where scheduling timings go (the agent's telemetry). */
  metrics?: ServerMetricsSink;
  /** Raft timing (ticks); defaults suit a LAN. */
  raftTickMs?: number;
  /** Entries between Raft snapshots, and entries kept behind one (Nomad's raft_* options). */
  raftSnapshotThreshold?: number;
  raftTrailingLogs?: number;
  /** How often the leader's drainer re-checks draining nodes (it also runs on every node/alloc change). */
  drainIntervalMs?: number;
  /** Garbage collection thresholds and interval; Nomad's defaults when left out. */
  gc?: Partial<GcConfig>;
}

export class Server {
  readonly state: StateStore;
  readonly fsm: Fsm;
  readonly raft: RaftNode;
  readonly broker: EvalBroker;
  readonly blocked: BlockedEvals;
  readonly heartbeats: HeartbeatTimers;
  readonly drainer: NodeDrainer;
  readonly deploymentWatcher: DeploymentWatcher;
  private readonly planApplier: PlanApplier;
  private readonly workers: Worker[] = [];
  private readonly logger: Logger;
  private leaderSince = 0;
  private dutiesRunning = false;
  private readonly gcConfig: GcConfig;
  private gcTimer: NodeJS.Timeout | null = null;
  private gcRunning: Promise<number> | null = null;
  readonly membership: ServerMembership;
  private raftStarted = false;
  private forming: Promise<void> | null = null;
  private rejoinTimer: NodeJS.Timeout | null = null;
  private readonly local: SchedulingBackend = localBackend(this);
  private remote: SchedulingBackend | null = null;

  constructor(readonly opts: ServerOptions) {
    this.logger = opts.logger.child({ component: 'server' });
    this.state = StateStore.open(join(opts.dataDir, 'state'));
    this.fsm = new Fsm(this.state);
    this.raft = new RaftNode({
      id: opts.id,
      address: opts.rpcAdvertise,
      dataDir: join(opts.dataDir, 'raft'),
      ...(opts.bootstrapExpect === 1 ? { bootstrap: [{ id: opts.id, address: opts.rpcAdvertise }] } : {}),
      transport: opts.transport,
      fsm: {
        apply: (e) => this.fsm.apply(e),
        lastApplied: () => this.fsm.lastApplied(),
        snapshot: () => this.fsm.snapshot(),
        restore: (data, index, term) => this.fsm.restore(data, index, term),
      },
      logger: this.logger.child({ component: 'raft' }),
      ...(opts.raftTickMs !== undefined ? { tickMs: opts.raftTickMs } : {}),
      ...(opts.raftSnapshotThreshold !== undefined ? { snapshotThreshold: opts.raftSnapshotThreshold } : {}),
      ...(opts.raftTrailingLogs !== undefined ? { trailingLogs: opts.raftTrailingLogs } : {}),
    });
    this.broker = new EvalBroker({
      nackTimeoutMs: 60_000,
      deliveryLimit: 3,
      newToken: randomUUID,
      onFailed: (ev) => void this.failEval(ev),
    });
    this.blocked = new BlockedEvals(
      (ev) => this.broker.enqueue(ev),
      (ev) => void this.upsertEvals([{ ...ev, Status: 'canceled', StatusDescription: 'superseded by a newer blocked evaluation' }]).catch(() => undefined),
    );
    this.heartbeats = new HeartbeatTimers({ ...DEFAULT_HEARTBEAT_CONFIG, ...opts.heartbeat }, (nodeId) => void this.nodeMissedHeartbeat(nodeId));
    this.planApplier = new PlanApplier(this.state, (cmd) => this.applyCommand(cmd) as Promise<{ index: number }>, nowNs, opts.metrics);
    this.drainer = new NodeDrainer(
      {
        state: this.state,
        apply: (cmd) => this.applyCommand(cmd),
        newEval: (job, nodeId) => this.newEval(job, 'node-drain', { NodeID: nodeId }),
        now: nowNs,
      },
      opts.drainIntervalMs ?? 1000,
      (err) => this.logger.warn({ err }, 'node drainer pass failed; retrying'),
    );
    this.deploymentWatcher = new DeploymentWatcher({
      state: this.state,
      apply: (cmd) => this.applyCommand(cmd),
      newEval: (job, trigger, extra) => this.newEval(job, trigger, extra),
      now: nowNs,
      logger: this.logger,
    });
    this.gcConfig = { ...DEFAULT_GC_CONFIG, ...opts.gc };
    this.membership = new ServerMembership({
      self: () => this.hello(),
      retryJoin: opts.retryJoin ?? [],
      defaultPort: opts.defaultRpcPort ?? 4647,
      retryIntervalMs: Math.min(opts.retryIntervalMs ?? 30_000, 1000),
      retryMax: opts.retryMax ?? 0,
      logger: this.logger,
      ...(opts.rpcTls ? { rpcTls: opts.rpcTls } : {}),
    });
    this.fsm.onEvals((evals) => this.onEvalsWritten(evals));
    this.state.onChange((c) => {
      if (!this.raft.isLeader() || !(c.tables.has('nodes') || c.tables.has('allocs'))) return;
      if (c.tables.has('nodes')) {
        // A restore lists no objects: everything may have changed.
        if (c.objects.length === 0) this.drainer.rescan();
        else this.drainer.nodesChanged(c.objects.flatMap((o) => (o.table === 'nodes' && typeof o.key === 'string' ? [o.key] : [])));
      }
      // Capacity may have appeared: a node changed, or allocations stopped or finished.
      this.blocked.unblockAll();
      // A replacement may now run, or a drain may have started: the drainer may move on.
      this.drainer.kick();
    });
  }

  async start(): Promise<void> {
    this.raft.onLeadershipChange((isLeader) => {
      if (isLeader) void this.establishLeadership();
      else this.revokeLeadership();
    });
    const fresh = !RaftNode.hasState(join(this.opts.dataDir, 'raft'));
    if (fresh && this.opts.bootstrapExpect !== 1) {
      // Raft starts once we know how: bootstrapping with the servers found, or joining.
      this.forming = this.formCluster().catch((err: unknown) => this.logger.error({ err }, 'could not form or join a cluster'));
    } else {
      await this.raft.start();
      this.raftStarted = true;
      this.afterRaftStart();
    }
    const n = Math.max(1, this.opts.numSchedulers);
    for (let i = 0; i < n; i++) {
      const w = new Worker({
        backend: () => this.schedulingBackend(i),
        state: this.state,
        ctx: { now: nowNs, random: Math.random, newId: randomUUID },
        logger: this.logger,
        ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
      });
      this.workers.push(w);
      w.start();
    }
    this.logger.info({ id: this.opts.id, rpc: this.opts.rpcAdvertise }, 'server started');
  }

  /** This server as `Server.Hello` describes it. */
  hello(): ServerHello {
    const config = this.raftStarted ? this.raft.configuration() : [];
    return {
      ID: this.opts.id,
      Name: this.opts.name,
      Region: this.opts.region,
      Datacenter: this.opts.datacenter,
      RpcAddr: this.opts.rpcAdvertise,
      Build: YURT_VERSION,
      BootstrapExpect: this.opts.bootstrapExpect,
      InCluster: config.length > 0,
      Leader: this.raftStarted ? (this.raft.leader()?.address ?? '') : '',
      Known: config.map((s) => ({ ID: s.id, RpcAddr: s.address })),
    };
  }

  /** Whether this server is a member of a formed cluster's configuration. */
  inCluster(): boolean {
    return this.raftStarted && this.raft.configuration().some((s) => s.id === this.opts.id);
  }

  private async formCluster(): Promise<void> {
    const expect = this.opts.bootstrapExpect;
    const formation = expect > 1 ? await this.membership.form(expect) : { mode: 'join' as const, via: [] };
    await this.raft.start(formation.mode === 'bootstrap' ? formation.servers : undefined);
    this.raftStarted = true;
    this.afterRaftStart();
    if (formation.mode === 'join') await this.joinCluster(formation.via);
  }

  /**
   * Members list upkeep; and a server the cluster no longer counts (removed while it was down,
   * or by an operator while it ran) asks back in, as Nomad's autopilot re-adds live servers.
   * What the cluster's leader says decides, not our own stored configuration, which a server
   * removed while down still lists itself in.
   */
  private afterRaftStart(): void {
    this.membership.startRefreshing(() => this.raft.configuration());
    if ((this.opts.retryJoin ?? []).length === 0) return;
    const check = async (): Promise<void> => {
      if (this.isLeader() || this.forming !== null) return;
      const answers = await this.membership.helloAll([...this.membership.joinAddresses(), ...this.raft.configuration().map((s) => s.address)]);
      const leaderView = answers.find((h) => h.InCluster && h.Leader !== '' && h.Leader === h.RpcAddr);
      const counted = leaderView ? leaderView.Known.some((k) => k.ID === this.opts.id) : this.inCluster();
      if (counted) return;
      this.forming = this.joinCluster(leaderView ? [leaderView.RpcAddr] : [])
        .catch((err: unknown) => this.logger.error({ err }, 'could not join the cluster'))
        .finally(() => (this.forming = null));
    };
    const loop = (): void => {
      this.rejoinTimer = setTimeout(() => void check().catch(() => undefined).finally(loop), 10_000);
      this.rejoinTimer.unref();
    };
    void check().catch(() => undefined);
    loop();
  }

  /** Asks the cluster (through any of its servers) to add this one, until it is a member. */
  async joinCluster(via: string[]): Promise<void> {
    for (let round = 1; ; round++) {
      if (this.membership.isStopped()) throw new YurtError('unavailable', 'server is shutting down');
      const addrs = [...new Set([...via, ...this.membership.joinAddresses()])].filter((a) => a !== this.opts.rpcAdvertise);
      for (const addr of addrs) {
        try {
          await this.membership.callServer(addr, 'Server.Join', { ID: this.opts.id, RpcAddr: this.opts.rpcAdvertise }, 120_000);
          this.logger.info({ via: addr }, 'joined the cluster');
          return;
        } catch (err) {
          this.logger.debug({ err, via: addr }, 'join attempt failed');
        }
      }
      const max = this.opts.retryMax ?? 0;
      if (max > 0 && round >= max) throw new YurtError('unavailable', `could not join a cluster through ${addrs.join(', ')} after ${round} attempts`);
      await this.membership.sleep(1000);
    }
  }

  async stop(): Promise<void> {
    this.membership.stop();
    if (this.rejoinTimer) clearTimeout(this.rejoinTimer);
    this.rejoinTimer = null;
    await this.forming;
    this.revokeLeadership();
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.raft.stop();
    await this.state.close();
  }

  isLeader(): boolean {
    return this.raft.isLeader();
  }

  /** Leader with its duties running (broker, blocked evals, heartbeat timers, drainer, GC). */
  leaderReady(): boolean {
    return this.leaderSince !== 0 && this.dutiesRunning && this.raft.isLeader();
  }

  leaderRpcAddr(): string | null {
    return this.raft.leader()?.address ?? null;
  }

  /** Lets follower workers reach the leader (set by whoever owns the RPC clients). */
  useForwarder(forward: Forward): void {
    this.remote = remoteBackend(forward);
  }

  /**
   * On the leader only a quarter of the workers run (at least one), as in Nomad: the leader's
   * CPU goes to the plan applier, broker and heartbeats, and followers do most planning.
   */
  private schedulingBackend(worker: number): SchedulingBackend | null {
    if (this.leaderReady()) return worker < Math.max(1, Math.floor(this.opts.numSchedulers / 4)) || this.remote === null ? this.local : null;
    if (this.raft.isLeader() || this.raft.leader() === null) return null;
    return this.remote;
  }

  /** The leader's plan queue: verify against the latest state and commit what fits. */
  submitPlan(plan: Plan): Promise<PlanResult> {
    return this.planApplier.apply(plan);
  }

  /** Apply a command through Raft (leader only); resolves after it is committed and applied. */
  async applyCommand(cmd: FsmCommand): Promise<FsmResult> {
    if (!this.raft.isLeader()) {
      const l = this.raft.leader();
      throw new NotLeaderError(l?.id, l?.address);
    }
    const { result } = await this.raft.apply(encodeCommand(cmd));
    return result as FsmResult;
  }

  async upsertEvals(evals: Evaluation[]): Promise<void> {
    await this.applyCommand({ type: 'EvalUpsert', evals });
  }

  newEval(job: Pick<Job, 'ID' | 'Namespace' | 'Priority' | 'Type' | 'JobModifyIndex'>, trigger: EvalTrigger, extra?: Partial<Evaluation>): Evaluation {
    const now = nowNs();
    return {
      ID: randomUUID(),
      Namespace: job.Namespace,
      Priority: job.Priority,
      Type: job.Type,
      TriggeredBy: trigger,
      JobID: job.ID,
      JobModifyIndex: job.JobModifyIndex,
      NodeID: '',
      NodeModifyIndex: 0,
      DeploymentID: '',
      Status: 'pending',
      StatusDescription: '',
      Wait: 0,
      WaitUntil: 0,
      NextEval: '',
      PreviousEval: '',
      BlockedEval: '',
      FailedTGAllocs: null,
      ClassEligibility: null,
      EscapedComputedClass: false,
      QueuedAllocations: {},
      SnapshotIndex: 0,
      CreateIndex: 0,
      ModifyIndex: 0,
      CreateTime: now,
      ModifyTime: now,
      ...extra,
    };
  }

  /** Evaluations for every job with live allocations on a node (and every system job). */
  nodeEvals(nodeId: string, trigger: EvalTrigger, nodeModifyIndex: number): Evaluation[] {
    const seen = new Set<string>();
    const evals: Evaluation[] = [];
    const add = (job: Job): void => {
      const key = `${job.Namespace}\u0000${job.ID}`;
      if (seen.has(key)) return;
      seen.add(key);
      evals.push(this.newEval(job, trigger, { NodeID: nodeId, NodeModifyIndex: nodeModifyIndex }));
    };
    for (const a of this.state.allocsByNode(nodeId)) {
      if (a.DesiredStatus !== 'run' || a.ClientStatus === 'complete' || a.ClientStatus === 'failed' || a.ClientStatus === 'lost') continue;
      const job = this.state.jobById(a.Namespace, a.JobID);
      if (job) add(job);
    }
    for (const job of this.state.jobs()) if ((job.Type === 'system' || job.Type === 'sysbatch') && !job.Stop) add(job);
    return evals;
  }

  private async establishLeadership(): Promise<void> {
    this.leaderSince = Date.now();
    this.logger.info('cluster leadership acquired');
    // Everything before our term must be applied before we act on state (Raft §8).
    try {
      await this.raft.barrier(30_000);
    } catch (err) {
      this.logger.warn({ err }, 'barrier after election failed');
      return;
    }
    if (!this.raft.isLeader()) return;
    this.broker.setEnabled(true);
    this.blocked.setEnabled(true);
    for (const ev of this.state.evals()) {
      if (ev.Status === 'pending') this.broker.enqueue(ev);
      else if (ev.Status === 'blocked') this.blocked.block(ev);
    }
    this.heartbeats.initialize(this.state.nodes().filter((n) => n.Status !== 'down').map((n) => n.ID));
    this.drainer.start();
    this.deploymentWatcher.start();
    this.gcTimer = setInterval(() => void this.runGc(false).catch((err: unknown) => this.logger.warn({ err }, 'garbage collection failed')), this.gcConfig.intervalMs);
    this.gcTimer.unref();
    this.dutiesRunning = true;
  }

  private revokeLeadership(): void {
    if (this.leaderSince !== 0) this.logger.info('cluster leadership lost');
    this.leaderSince = 0;
    this.dutiesRunning = false;
    this.broker.setEnabled(false);
    this.blocked.setEnabled(false);
    this.heartbeats.clear();
    this.drainer.stop();
    this.deploymentWatcher.stop();
    if (this.gcTimer) clearInterval(this.gcTimer);
    this.gcTimer = null;
  }

  /**
   * The garbage-collection core job (leader only): collect what is old and finished and remove
   * it through Raft. `force` ignores the thresholds (PUT /v1/system/gc). Runs never overlap.
   * Resolves with the Raft index of the removal, or 0 when there was nothing to collect.
   */
  async runGc(force: boolean): Promise<number> {
    if (!this.raft.isLeader()) {
      const l = this.raft.leader();
      throw new NotLeaderError(l?.id, l?.address);
    }
    while (this.gcRunning) await this.gcRunning.catch(() => 0);
    const run = (async (): Promise<number> => {
      const cmd = collectGarbage(this.state, this.gcConfig, nowNs(), force);
      if (!cmd) return 0;
      this.logger.info({ evals: cmd.evalIds.length, allocs: cmd.allocIds.length, jobs: cmd.jobs.length, nodes: cmd.nodeIds.length }, 'garbage collection');
      const r = await this.applyCommand(cmd);
      return r !== null && 'index' in r ? r.index : 0;
    })();
    this.gcRunning = run;
    try {
      return await run;
    } finally {
      this.gcRunning = null;
    }
  }

  private onEvalsWritten(evals: Evaluation[]): void {
    if (!this.raft.isLeader()) return;
    for (const ev of evals) {
      if (ev.Status === 'pending') this.broker.enqueue(ev);
      else if (ev.Status === 'blocked') this.blocked.block(ev);
    }
  }

  private async failEval(ev: Evaluation): Promise<void> {
    const now = nowNs();
    const followup = this.newEval({ ...ev, Type: ev.Type === '_core' ? 'service' : ev.Type, JobModifyIndex: ev.JobModifyIndex }, 'failed-follow-up', {
      PreviousEval: ev.ID,
      Wait: 60e9,
      WaitUntil: now + 60e9,
    });
    try {
      await this.upsertEvals([
        { ...ev, Status: 'failed', StatusDescription: 'evaluation reached delivery limit (3)', NextEval: followup.ID, ModifyTime: now },
        followup,
      ]);
    } catch (err) {
      this.logger.warn({ err, eval_id: ev.ID }, 'could not mark evaluation failed');
    }
  }

  private async nodeMissedHeartbeat(nodeId: string): Promise<void> {
    const node = this.state.nodeById(nodeId);
    if (!node || node.Status === 'down' || !this.raft.isLeader()) return;
    this.logger.warn({ node_id: nodeId, node: node.Name }, 'node missed its heartbeat TTL; marking down');
    try {
      await this.applyCommand({
        type: 'NodeUpdateStatus',
        nodeId,
        status: 'down',
        evals: this.nodeEvals(nodeId, 'node-update', node.ModifyIndex),
        now: nowNs(),
      });
    } catch (err) {
      this.logger.warn({ err, node_id: nodeId }, 'could not mark node down');
    }
  }
}

export function nowNs(): number {
  return Date.now() * 1e6;
}
