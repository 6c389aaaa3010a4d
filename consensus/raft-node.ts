/**
 * The shell around the pure Raft core: it owns the clock (a tick every `tickMs`), the disk
 * (RaftStorage in LMDB, SnapshotStore in files) and the network (a Transport), and runs
 * the Ready loop:
 *
 *   take Ready → send the leader's appends at once → install a received snapshot → persist
 *   hard state + entries (one transaction, awaited until fsynced) → send votes and acks →
 *   apply committed entries to the FSM in order → answer reads → advance
 *
 * Votes and append acks leave only after persistence because they are promises about
 * durable state (Raft paper Figure 2, "before responding to RPCs"); a leader's own appends
 * may go first, so its fsync overlaps the followers' (thesis §10.2.1). Ticks and inbound
 * messages keep stepping the core while a Ready is being persisted; what they produce
 * waits for the next Ready, which batches a burst of proposals into one append. When a Ready
 * carries nothing that must wait for its write (no votes or acks), committed entries already
 * on disk are applied while its commit and fsync run on the storage's write thread.
 *
 * Timing defaults (LAN, as etcd): tick 50 ms; heartbeat every 2 ticks (100 ms); election
 * timeout 20 ticks, randomized per term in [1 s, 2 s). A configuration with a single voter
 * campaigns at start instead of waiting for the timeout.
 *
 * Files in `dataDir`: `raft.mdb` (log and hard state), `snapshots/` (state machine
 * snapshots), and, only during outage recovery, `peers.json` (see peers-file.ts).
 *
 * RaftNode holds the lifecycle and the public API; beside it: core-driver.ts (ticks,
 * inbound messages and the Ready loop), node-options.ts (options, defaults, validation),
 * node-startup.ts (what start does once the stores are open), node-snapshots.ts,
 * leadership-watch.ts, pending-applies.ts, pending-reads.ts and applied-waiters.ts (callers
 * waiting), membership-changes.ts (catching up a new server), node-status.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppliedWaiters } from './applied-waiters.js';
import type { ConfigChange, Server } from './core/configuration.js';
import { configurationProblems, findServer, voterIds } from './core/configuration.js';
import type { Proposal } from './core/proposals.js';
import type { RaftCore } from './core/raft-core.js';
import { CoreDriver } from './core-driver.js';
import type { LeadershipListener } from './leadership-watch.js';
import { LeadershipWatch } from './leadership-watch.js';
import { waitCaughtUp } from './membership-changes.js';
import type { NodeTiming, RaftLogger, RaftNodeOptions, ServerAddress } from './node-options.js';
import { DEFAULT_APPLY_TIMEOUT_MS, checkNodeOptions } from './node-options.js';
import { NodeSnapshots } from './node-snapshots.js';
import { prepareCore } from './node-startup.js';
import type { NodeState, NodeView, RaftStatus } from './node-status.js';
import { newNodeCounters, nodeStats, nodeStatus } from './node-status.js';
import { PendingApplies } from './pending-applies.js';
import { PendingReads } from './pending-reads.js';
import { RaftStorage } from './storage/raft-storage.js';
import { SnapshotStore } from './storage/snapshot-store.js';
import { NotLeaderError, ValidationError, YurtError, asYurtError } from '../structs/errors.js';

export type { Transport } from './transport/transport.js';
export type { Message } from './core/messages.js';
export type { RaftLogger, RaftNodeOptions, ServerAddress, StateMachine } from './node-options.js';

const silent: RaftLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class RaftNode {
  private readonly opts: RaftNodeOptions;
  private readonly timing: NodeTiming;
  private readonly logger: RaftLogger;
  private state: NodeState = 'new';
  private core: RaftCore | null = null;
  private storage: RaftStorage | null = null;
  private snapshots: NodeSnapshots | null = null;
  private driver: CoreDriver | null = null;
  private bootstrapServers: ServerAddress[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private starting: Promise<void> = Promise.resolve();
  private failure: YurtError | null = null;
  private readonly pending = new PendingApplies();
  private readonly appliedWaiters = new AppliedWaiters();
  private readonly reads = new PendingReads();
  private readonly leadership: LeadershipWatch;
  private configIndex = -1;
  private readonly counters = newNodeCounters();

  /** Whether `dataDir` holds a Raft store already (a server that ran before). */
  static hasState(dataDir: string): boolean {
    return existsSync(join(dataDir, 'raft.mdb'));
  }

  constructor(opts: RaftNodeOptions) {
    this.timing = checkNodeOptions(opts);
    this.opts = opts;
    this.logger = opts.logger ?? silent;
    this.leadership = new LeadershipWatch(this.logger);
  }

  /** Opens storage (verifying every checksum, log and snapshots), applies a peers.json
   *  recovery file if there is one, bootstraps an empty store if asked to, and resolves once
   *  committed entries the FSM had not applied have been replayed into it. */
  /**
   * `bootstrap` overrides the option of that name: servers that find each other at run time
   * (bootstrap_expect) only know the initial configuration when they start.
   */
  start(bootstrap?: ServerAddress[]): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new YurtError('conflict', `raft node ${this.opts.id} was already started`));
    if (bootstrap !== undefined) {
      const servers = bootstrap.map((s): Server => ({ id: s.id, address: s.address, suffrage: 'voter' }));
      const problems = configurationProblems({ servers });
      if (servers.length === 0 || problems.length > 0) return Promise.reject(new ValidationError('raft bootstrap configuration', problems));
      this.bootstrapServers = bootstrap;
    }
    this.state = 'starting';
    this.starting = this.open();
    return this.starting;
  }

  private async open(): Promise<void> {
    let storage: RaftStorage;
    let snapshots: SnapshotStore;
    try {
      snapshots = await SnapshotStore.open(join(this.opts.dataDir, 'snapshots'), this.opts.snapshotRetain ?? 2);
      storage = await RaftStorage.open(this.opts.dataDir);
    } catch (e) {
      throw this.startFailed(e);
    }
    let core: RaftCore;
    try {
      const bootstrap = this.bootstrapServers ?? this.opts.bootstrap;
      core = await prepareCore({ opts: this.opts, timing: this.timing, bootstrap, storage, snapshots, logger: this.logger });
    } catch (e) {
      await storage.close();
      throw this.startFailed(e);
    }
    this.storage = storage;
    this.snapshots = new NodeSnapshots(snapshots, this.opts, this.logger, this.counters);
    this.core = core;
    const driver = new CoreDriver(
      { core, storage, snapshots: this.snapshots, opts: this.opts, logger: this.logger, counters: this.counters, pending: this.pending, reads: this.reads },
      {
        isRunning: () => this.state === 'running',
        hasFailed: () => this.state === 'failed',
        fail: (e) => this.fail(e),
        observe: () => {
          this.observeLeadership();
          this.observeConfiguration();
        },
        applied: () => this.resolveAppliedWaiters(),
        heardFromLeader: () => {
          this.leadership.lastContact = Date.now();
        },
      },
    );
    this.driver = driver;
    const replayTo = core.log.committed;
    this.logger.info(
      {
        id: this.opts.id,
        term: core.term,
        firstIndex: storage.firstIndex(),
        lastIndex: storage.lastIndex(),
        commit: replayTo,
        applied: driver.applied,
        snapshot: storage.snapshot().index,
      },
      'starting',
    );
    this.opts.transport.onMessage((m) => driver.receive(m));
    // Unref'd: the node alone does not keep a process alive; its owner's listeners do.
    this.timer = setInterval(() => driver.tick(), this.timing.tickMs).unref();
    this.state = 'running';
    this.observeConfiguration();
    const voters = voterIds(core.configuration().configuration);
    if (voters.length === 1 && voters[0] === this.opts.id) core.campaign();
    driver.afterInput();
    await this.waitApplied(replayTo);
  }

  /** Stops ticking and receiving, waits for the Ready in progress (persistence included),
   *  fails waiting callers with 'unavailable', and closes LMDB. The transport stays open:
   *  it belongs to the caller. */
  async stop(): Promise<void> {
    if (this.state === 'starting') await this.starting.catch(() => undefined);
    if (this.state === 'new' || this.state === 'stopped') {
      this.state = 'stopped';
      return;
    }
    if (this.state !== 'failed') this.state = 'stopping';
    clearInterval(this.timer);
    await this.driver?.idle;
    await this.snapshots?.inProgress?.catch(() => undefined);
    if (this.state !== 'failed') await (this.driver?.saveCommit() ?? Promise.resolve()).catch((e: unknown) => this.fail(e));
    const stopped = () => new YurtError('unavailable', `raft node ${this.opts.id} stopped`);
    this.pending.rejectAll(stopped);
    this.appliedWaiters.rejectAll(stopped());
    this.reads.rejectAll(stopped);
    this.leadership.relinquish();
    await this.storage?.close();
    this.state = 'stopped';
    this.logger.info({ id: this.opts.id }, 'stopped');
  }

  /**
   * Replicates `data` and resolves after it is committed AND applied by the FSM, with the
   * FSM's return value. Rejects with NotLeaderError when not leader; YurtError 'unavailable'
   * during a leadership transfer or when too many bytes are uncommitted (back-pressure,
   * details.reason 'backpressure'); 'leadership_lost' when leadership is lost before commit
   * (the entry may or may not commit later); 'timeout' after timeoutMs.
   */
  async apply(data: Uint8Array, timeoutMs = DEFAULT_APPLY_TIMEOUT_MS): Promise<{ index: number; result: unknown }> {
    const core = this.running();
    if (!(data instanceof Uint8Array)) throw new YurtError('invalid_argument', 'raft apply: data must be a Uint8Array');
    const proposed = core.propose(data);
    if (!proposed.ok) throw this.refused(proposed);
    const proposedAt = performance.now();
    const done = this.pending.wait(proposed.index, proposed.term, timeoutMs);
    this.kick();
    // Proposal to committed-and-applied on the leader (hashicorp/raft's raft.commitTime
    // plus the FSM): the latency writers see.
    void done.then(
      () => {
        this.counters.commits++;
        this.counters.commitMs += performance.now() - proposedAt;
      },
      () => undefined,
    );
    return done;
  }

  /** Leader only: resolves with the index of a fresh barrier entry once it and everything
   *  before it is applied (what a new leader waits for before acting on state). */
  async barrier(timeoutMs = DEFAULT_APPLY_TIMEOUT_MS): Promise<number> {
    const core = this.running();
    const proposed = core.proposeBarrier();
    if (!proposed.ok) throw this.refused(proposed);
    const done = this.pending.wait(proposed.index, proposed.term, timeoutMs);
    this.kick();
    await done;
    return proposed.index;
  }

  /**
   * A linearizable read point (ReadIndex, thesis §6.4): resolves with an index once the
   * leader has confirmed, with a heartbeat round answered by a majority, that it still led
   * when the read arrived, and this server's state machine has applied up to that index.
   * Reading the state machine then reflects every write acknowledged before the call. Works
   * on followers too (they ask the leader). No lease reads: a deposed leader never answers.
   */
  async readIndex(timeoutMs = DEFAULT_APPLY_TIMEOUT_MS): Promise<number> {
    const core = this.running();
    const ctx = this.reads.nextCtx();
    if (!core.readIndex(ctx)) throw this.notLeader();
    const done = this.reads.wait(ctx, timeoutMs);
    this.kick();
    return done;
  }

  /** Adds a server that replicates without voting (it does not count toward any majority). */
  addNonVoter(id: string, address: string, timeoutMs = DEFAULT_APPLY_TIMEOUT_MS): Promise<number> {
    return this.changeConfiguration({ type: 'addNonVoter', id, address }, timeoutMs);
  }

  /**
   * Adds a voter the safe way (thesis §4.2.1): as a non-voter first, then, once it has
   * caught up with the leader's log, promoted. A voter already there is left as it is.
   * Resolves with the index of the configuration entry that made it a voter.
   */
  async addVoter(id: string, address: string, timeoutMs = DEFAULT_APPLY_TIMEOUT_MS): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const existing = findServer(this.running().configuration().configuration, id);
    if (existing?.suffrage === 'voter' && existing.address === address) return this.running().configuration().index;
    if (existing === undefined || existing.address !== address) await this.addNonVoter(id, address, timeoutMs);
    return this.promote(id, Math.max(1, deadline - Date.now()));
  }

  /** Makes a non-voter a voter once it has caught up. */
  async promote(id: string, timeoutMs = DEFAULT_APPLY_TIMEOUT_MS): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const s = findServer(this.running().configuration().configuration, id);
    if (s === undefined) throw new YurtError('not_found', `server ${id} is not in the configuration`);
    if (s.suffrage === 'voter') return this.running().configuration().index;
    await waitCaughtUp({ running: () => this.running(), notLeader: () => this.notLeader(), timing: this.timing }, id, deadline);
    return this.changeConfiguration({ type: 'promote', id }, Math.max(1, deadline - Date.now()));
  }

  /** Removes a server (this one included: a leader removing itself steps down once the
   *  change commits and hands over to the most up-to-date voter). */
  removeServer(id: string, timeoutMs = DEFAULT_APPLY_TIMEOUT_MS): Promise<number> {
    return this.changeConfiguration({ type: 'remove', id }, timeoutMs);
  }

  /**
   * Hands leadership to `to` (default: the most up-to-date voter), for rolling restarts.
   * Resolves with the new leader once this server has stepped down; rejects with 'timeout'
   * if no other server took over in time (this one then stays leader).
   */
  async transferLeadership(to?: string, timeoutMs?: number): Promise<ServerAddress> {
    const core = this.running();
    const r = core.transferLeadership(to);
    if (!r.ok) throw this.refused(r);
    const moved = this.leadership.handedOver(timeoutMs ?? 3 * this.timing.electionTicks * this.timing.tickMs);
    this.kick();
    return moved;
  }

  isLeader(): boolean {
    return this.state === 'running' && this.core?.role === 'leader';
  }

  /** The leader this server knows of; `address` is '' if it is not in our configuration. */
  leader(): ServerAddress | null {
    const id = this.state === 'running' ? this.core?.lead : null;
    if (id == null) return null;
    const s = this.core?.configuration().configuration.servers.find((x) => x.id === id);
    return { id, address: s?.address ?? '' };
  }

  /** Called on every change of leader (or of our own leadership); returns an unsubscribe. */
  onLeadershipChange(cb: LeadershipListener): () => void {
    return this.leadership.onChange(cb);
  }

  appliedIndex(): number {
    return this.applied();
  }

  commitIndex(): number {
    return this.core?.log.committed ?? 0;
  }

  /** Every server of the latest configuration, voters and non-voters. */
  configuration(): Array<{ id: string; address: string; suffrage: 'voter' | 'nonvoter' }> {
    return (this.core?.configuration().configuration.servers ?? []).map((s) => ({ ...s }));
  }

  /** Index of the log entry holding the latest configuration (0: none). */
  configurationIndex(): number {
    return this.core?.configuration().index ?? 0;
  }

  /** Everything known about this server's Raft state, structured. */
  status(): RaftStatus {
    return nodeStatus(this.view());
  }

  /** Counters in hashicorp/raft's names where one exists. */
  stats(): Record<string, string | number> {
    return nodeStats(this.view());
  }

  private view(): NodeView {
    return {
      id: this.opts.id,
      state: this.state,
      core: this.core,
      storage: this.storage,
      applied: this.applied(),
      lastLeaderContact: this.leadership.lastContact,
      failure: this.failure,
      pendingApplies: this.pending.size,
      pendingReads: this.reads.size,
      counters: this.counters,
    };
  }

  // ---- membership -------------------------------------------------------------------

  private async changeConfiguration(change: ConfigChange, timeoutMs: number): Promise<number> {
    const core = this.running();
    const p = core.proposeConfigChange(change);
    if (!p.ok) throw this.refused(p);
    if (p.unchanged === true) {
      await this.waitApplied(p.index);
      return p.index;
    }
    const done = this.pending.wait(p.index, p.term, timeoutMs);
    this.kick();
    await done;
    return p.index;
  }

  // ---- bookkeeping --------------------------------------------------------------------

  private kick(): void {
    this.driver?.kick();
  }

  private applied(): number {
    return this.driver?.applied ?? 0;
  }

  private running(): RaftCore {
    if (this.state !== 'running' || this.core === null) {
      throw this.failure ?? new YurtError('unavailable', `raft node ${this.opts.id} is not running (${this.state})`);
    }
    return this.core;
  }

  private refused(p: Extract<Proposal, { ok: false }>): YurtError {
    if (p.code === 'not_leader') return this.notLeader();
    return new YurtError(p.code, p.reason, p.details === undefined ? undefined : { details: p.details });
  }

  private notLeader(): NotLeaderError {
    const l = this.leader();
    return new NotLeaderError(l?.id, l === null || l.address === '' ? undefined : l.address);
  }

  private observeLeadership(): void {
    const core = this.core;
    if (core === null) return;
    const change = this.leadership.see(core.role, core.lead);
    if (change === null) return;
    if (change.leaderChanged) {
      // Reads forwarded to (or confirmed by) a leader that is gone will never be answered.
      this.reads.rejectUnconfirmed(() => new YurtError('leadership_lost', 'the leader changed before the read was confirmed; retry'));
      if (core.lead !== null && core.lead !== this.opts.id) this.leadership.lastContact = Date.now();
    }
    this.logger.info({ id: this.opts.id, term: core.term, leader: core.lead, isLeader: change.isLeader }, 'leadership changed');
    if (change.lost) {
      // What is committed will be applied, and its callers answered, whoever leads next.
      this.pending.rejectAbove(
        core.log.committed,
        () => new YurtError('leadership_lost', `raft node ${this.opts.id} lost leadership before the entry was committed; it may still commit`),
      );
    }
    this.leadership.notify(change.isLeader, this.leader());
  }

  private observeConfiguration(): void {
    const c = this.core?.configuration();
    if (c === undefined || c.index === this.configIndex) return;
    this.configIndex = c.index;
    const peers = c.configuration.servers.map((s) => ({ id: s.id, address: s.address }));
    this.logger.info({ index: c.index, servers: c.configuration.servers }, 'configuration');
    this.opts.transport.setPeers?.(peers);
  }

  private waitApplied(index: number): Promise<void> {
    if (this.applied() >= index) return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    return this.appliedWaiters.wait(index);
  }

  private resolveAppliedWaiters(): void {
    this.appliedWaiters.resolveUpTo(this.applied());
    this.counters.readsServed += this.reads.serve(this.applied());
  }

  private startFailed(e: unknown): unknown {
    this.state = 'failed';
    this.failure = asYurtError(e);
    this.logger.error({ id: this.opts.id, code: this.failure.code, err: this.failure.message }, 'cannot start');
    return e;
  }

  /** Storage or protocol failure: stop taking part, keep the data as it is for inspection. */
  private fail(e: unknown): void {
    const err = asYurtError(e);
    if (this.failure !== null) return;
    this.failure = err;
    this.state = 'failed';
    clearInterval(this.timer);
    this.logger.error({ id: this.opts.id, code: err.code, err: err.message }, 'node failed and stopped participating');
    this.pending.rejectAll(() => err);
    this.appliedWaiters.rejectAll(err);
    this.reads.rejectAll(() => err);
    this.leadership.relinquish();
  }
}
