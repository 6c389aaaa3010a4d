/**
 * The shell around the pure Raft core: it owns the clock (a tick every `tickMs`), the disk
 * (RaftStorage, LMDB) and the network (a Transport), and runs the Ready loop:
 *
 *   take Ready → persist hard state + entries (one transaction, awaited until fsynced)
 *              → send messages → apply committed entries to the FSM in order → advance
 *
 * Messages leave only after persistence because a vote or an append ack is a promise
 * about durable state (Raft paper Figure 2, "before responding to RPCs"). Ticks and
 * inbound messages keep stepping the core while a Ready is being persisted; what they
 * produce waits for the next Ready.
 *
 * Timing defaults (LAN, as etcd): tick 50 ms; heartbeat every 2 ticks (100 ms); election
 * timeout 20 ticks, randomized per term in [1 s, 2 s). A configuration with a single voter
 * campaigns at start instead of waiting for the timeout.
 */
import { encodeConfiguration, configurationProblems, voterIds } from './core/configuration.js';
import type { Server } from './core/configuration.js';
import { checkMessage } from './core/message-guard.js';
import type { Entry, HardState, Message, Ready } from './core/messages.js';
import { RaftCore } from './core/raft-core.js';
import { PendingApplies } from './pending-applies.js';
import type { ApplyOutcome } from './pending-applies.js';
import { RaftStorage } from './storage/raft-storage.js';
import type { Transport } from './transport/transport.js';
import { NotLeaderError, ValidationError, YurtError, asYurtError } from '../structs/errors.js';
import type { FieldError } from '../structs/errors.js';

export type { Transport } from './transport/transport.js';
export type { Message } from './core/messages.js';

export interface StateMachine {
  /** Apply one committed entry's data; may be async; called strictly in log order, once per index.
   *  What it returns (or throws) is handed to the caller of `RaftNode.apply` on the leader; it
   *  must be deterministic, since every server applies the same entry. */
  apply(entry: { index: number; term: number; data: Uint8Array }): unknown;
  /** Highest index already applied and durable in the state machine's own store (replay starts after it). */
  lastApplied(): number;
  snapshot(): Promise<Uint8Array>;
  restore(data: Uint8Array, index: number, term: number): Promise<void>;
}

/** The pino methods the node uses. */
export interface RaftLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ServerAddress {
  id: string;
  address: string;
}

export interface RaftNodeOptions {
  id: string;
  address: string;
  /** Directory of this server's Raft data (LMDB environment `raft.mdb` inside). */
  dataDir: string;
  /** Initial voters if the store holds no configuration yet (single-node: [{id, address}]). */
  bootstrap?: ServerAddress[];
  transport: Transport;
  fsm: StateMachine;
  logger?: RaftLogger;
  /** Milliseconds per tick; default 50. */
  tickMs?: number;
  /** Election timeout base in ticks (randomized up to twice that); default 20. */
  electionTicks?: number;
  /** Heartbeat interval in ticks; default 2. */
  heartbeatTicks?: number;
  /** Randomness for election timeouts; default Math.random. */
  random?: () => number;
}

export const DEFAULT_TICK_MS = 50;
export const DEFAULT_ELECTION_TICKS = 20;
export const DEFAULT_HEARTBEAT_TICKS = 2;
/** How long apply() and barrier() wait by default (as Nomad's RPC hold limits). */
export const DEFAULT_APPLY_TIMEOUT_MS = 30_000;

type NodeState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
type LeadershipListener = (isLeader: boolean, leader: ServerAddress | null) => void;

const silent: RaftLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class RaftNode {
  private readonly opts: RaftNodeOptions;
  private readonly timing: { tickMs: number; electionTicks: number; heartbeatTicks: number };
  private readonly logger: RaftLogger;
  private state: NodeState = 'new';
  private core: RaftCore | null = null;
  private storage: RaftStorage | null = null;
  private timer: NodeJS.Timeout | undefined;
  private looping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private starting: Promise<void> = Promise.resolve();
  private failure: YurtError | null = null;
  /** A commit index advanced but not yet written (see persist). */
  private unsavedCommit: HardState | null = null;
  private readonly pending = new PendingApplies();
  /** Callers of start() waiting for the replay to reach an index. */
  private readonly appliedWaiters: Array<{ index: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private applied = 0;
  private wasLeader = false;
  private lastLeaderId: string | null = null;
  private configIndex = -1;
  private readonly listeners = new Set<LeadershipListener>();
  private readonly counters = { applied: 0, applyErrors: 0, droppedMessages: 0, readies: 0 };

  constructor(opts: RaftNodeOptions) {
    const problems: FieldError[] = [];
    if (opts.id === '') problems.push({ path: 'id', message: 'must not be empty' });
    if (opts.address === '') problems.push({ path: 'address', message: 'must not be empty' });
    if (opts.dataDir === '') problems.push({ path: 'dataDir', message: 'must not be empty' });
    const tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
    const electionTicks = opts.electionTicks ?? DEFAULT_ELECTION_TICKS;
    const heartbeatTicks = opts.heartbeatTicks ?? DEFAULT_HEARTBEAT_TICKS;
    if (!(tickMs >= 1)) problems.push({ path: 'tickMs', message: 'must be at least 1' });
    if (!Number.isInteger(heartbeatTicks) || heartbeatTicks < 1) problems.push({ path: 'heartbeatTicks', message: 'must be an integer >= 1' });
    if (!Number.isInteger(electionTicks) || electionTicks <= heartbeatTicks) {
      problems.push({ path: 'electionTicks', message: `must be an integer greater than heartbeatTicks (${heartbeatTicks})` });
    }
    if (opts.bootstrap !== undefined) {
      const servers = opts.bootstrap.map((s): Server => ({ id: s.id, address: s.address, suffrage: 'voter' }));
      if (servers.length === 0) problems.push({ path: 'bootstrap', message: 'must list at least one server' });
      for (const p of configurationProblems({ servers })) problems.push({ ...p, path: p.path.replace(/^servers/, 'bootstrap') });
    }
    if (problems.length > 0) throw new ValidationError('raft node options', problems);
    this.opts = opts;
    this.timing = { tickMs, electionTicks, heartbeatTicks };
    this.logger = opts.logger ?? silent;
  }

  /** Opens storage (verifying every checksum), bootstraps an empty store if asked to, and
   *  resolves once committed entries the FSM had not applied have been replayed into it. */
  start(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new YurtError('conflict', `raft node ${this.opts.id} was already started`));
    this.state = 'starting';
    this.starting = this.open();
    return this.starting;
  }

  private async open(): Promise<void> {
    let storage: RaftStorage;
    try {
      storage = await RaftStorage.open(this.opts.dataDir);
    } catch (e) {
      throw this.startFailed(e);
    }
    let core: RaftCore;
    try {
      if (storage.isEmpty() && this.opts.bootstrap !== undefined) {
        const servers = this.opts.bootstrap.map((s): Server => ({ id: s.id, address: s.address, suffrage: 'voter' }));
        await storage.persist({ term: 1, vote: '', commit: 0 }, [{ index: 1, term: 1, type: 'config', data: encodeConfiguration({ servers }) }]);
        this.logger.info({ servers: servers.map((s) => s.id) }, 'raft: bootstrapped a new cluster configuration');
      }
      core = new RaftCore({
        id: this.opts.id,
        storage,
        applied: this.opts.fsm.lastApplied(),
        random: this.opts.random ?? Math.random,
        electionTicks: this.timing.electionTicks,
        heartbeatTicks: this.timing.heartbeatTicks,
        logger: this.logger,
      });
    } catch (e) {
      await storage.close();
      throw this.startFailed(e);
    }
    this.storage = storage;
    this.core = core;
    this.applied = core.log.applied;
    const replayTo = core.log.committed;
    this.logger.info(
      { id: this.opts.id, term: core.term, firstIndex: storage.firstIndex(), lastIndex: storage.lastIndex(), commit: replayTo, applied: this.applied },
      'raft: starting',
    );
    this.opts.transport.onMessage((m) => this.receive(m));
    // Unref'd: the node alone does not keep a process alive; its owner's listeners do.
    this.timer = setInterval(() => this.onTick(), this.timing.tickMs).unref();
    this.state = 'running';
    const voters = voterIds(core.configuration().configuration);
    if (voters.length === 1 && voters[0] === this.opts.id) core.campaign();
    this.afterInput();
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
    await this.loopDone;
    if (this.state !== 'failed') await this.saveCommit().catch((e: unknown) => this.fail(e));
    const stopped = () => new YurtError('unavailable', `raft node ${this.opts.id} stopped`);
    this.pending.rejectAll(stopped);
    this.rejectAppliedWaiters(stopped());
    if (this.wasLeader) this.notifyLeadership(false, null);
    await this.storage?.close();
    this.state = 'stopped';
    this.logger.info({ id: this.opts.id }, 'raft: stopped');
  }

  /**
   * Replicates `data` and resolves after it is committed AND applied by the FSM, with the
   * FSM's return value. Rejects with NotLeaderError when not leader, YurtError
   * 'leadership_lost' when leadership is lost before commit (the entry may or may not
   * commit later), YurtError 'timeout' after timeoutMs.
   */
  async apply(data: Uint8Array, timeoutMs = DEFAULT_APPLY_TIMEOUT_MS): Promise<{ index: number; result: unknown }> {
    const core = this.running();
    if (!(data instanceof Uint8Array)) throw new YurtError('invalid_argument', 'raft apply: data must be a Uint8Array');
    const proposed = core.propose(data);
    if (proposed === null) throw this.notLeader();
    const done = this.pending.wait(proposed.index, proposed.term, timeoutMs);
    this.kick();
    return done;
  }

  /** Leader only: resolves with the index of a fresh barrier entry once it and everything
   *  before it is applied (what a new leader waits for before acting on state). */
  async barrier(timeoutMs = DEFAULT_APPLY_TIMEOUT_MS): Promise<number> {
    const core = this.running();
    const proposed = core.proposeBarrier();
    if (proposed === null) throw this.notLeader();
    const done = this.pending.wait(proposed.index, proposed.term, timeoutMs);
    this.kick();
    await done;
    return proposed.index;
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
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  appliedIndex(): number {
    return this.applied;
  }

  commitIndex(): number {
    return this.core?.log.committed ?? 0;
  }

  configuration(): Array<{ id: string; address: string; suffrage: 'voter' | 'nonvoter' }> {
    return (this.core?.configuration().configuration.servers ?? []).map((s) => ({ ...s }));
  }

  /** Counters in hashicorp/raft's names where one exists. */
  stats(): Record<string, string | number> {
    const core = this.core;
    const st = core?.status();
    const roleName = { leader: 'Leader', follower: 'Follower', candidate: 'Candidate' } as const;
    return {
      state: st === undefined || this.state !== 'running' ? (this.state === 'failed' ? 'Failed' : 'Shutdown') : roleName[st.role],
      node_state: this.state,
      term: st?.term ?? 0,
      last_log_index: st?.lastIndex ?? 0,
      last_log_term: st?.lastTerm ?? 0,
      commit_index: st?.commit ?? 0,
      applied_index: this.applied,
      first_log_index: st?.firstIndex ?? 0,
      latest_configuration_index: st?.configIndex ?? 0,
      num_peers: Math.max(0, (core?.configuration().configuration.servers.length ?? 1) - 1),
      leader_id: st?.leaderId ?? '',
      fsm_pending: this.pending.size,
      applied_commands: this.counters.applied,
      apply_errors: this.counters.applyErrors,
      dropped_messages: this.counters.droppedMessages,
      readies: this.counters.readies,
      failure: this.failure?.message ?? '',
    };
  }

  // ---- inputs -------------------------------------------------------------------------

  private onTick(): void {
    if (this.state !== 'running' || this.core === null) return;
    if (!this.looping) this.saveCommit().catch((e: unknown) => this.fail(e));
    try {
      this.core.tick();
    } catch (e) {
      this.fail(e);
      return;
    }
    this.afterInput();
  }

  private receive(raw: Message): void {
    if (this.state !== 'running' || this.core === null) return;
    const check = checkMessage(raw);
    if (!check.ok) {
      this.counters.droppedMessages++;
      this.logger.warn({ reason: check.reason }, 'raft: dropped a malformed message');
      return;
    }
    try {
      this.core.step(check.message);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.afterInput();
  }

  private afterInput(): void {
    this.observeLeadership();
    this.observeConfiguration();
    this.kick();
  }

  // ---- the Ready loop -----------------------------------------------------------------

  private kick(): void {
    if (this.looping || this.core === null || this.state === 'failed') return;
    this.looping = true;
    this.loopDone = this.runLoop();
  }

  private async runLoop(): Promise<void> {
    const core = this.core;
    const storage = this.storage;
    if (core === null || storage === null) return;
    try {
      while (core.hasReady() && this.state !== 'failed') {
        const rd = core.ready();
        this.counters.readies++;
        await this.persist(storage, rd);
        for (const m of rd.messages) this.send(m);
        if (rd.committedEntries.length > 0) await this.applyEntries(rd.committedEntries);
        core.advance(rd);
        this.observeLeadership();
        this.observeConfiguration();
        this.resolveAppliedWaiters();
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.looping = false;
    }
  }

  /**
   * Term, vote and entries must be on disk before anyone hears from us. The commit index
   * need not be: the paper keeps it volatile (Figure 2), and a restarted server relearns
   * it from the leader's appends or from the FSM's durable index. A Ready that only moves
   * the commit index is therefore not written on its own (that would double the writes per
   * apply); it rides along with the next write, or is saved on a tick when idle, or at stop.
   */
  private async persist(storage: RaftStorage, rd: Ready): Promise<void> {
    const hs = rd.hardState;
    if (hs === undefined && rd.entries.length === 0) return;
    const durable = storage.initialState();
    if (rd.entries.length === 0 && hs !== undefined && hs.term === durable.term && hs.vote === durable.vote) {
      this.unsavedCommit = hs;
      return;
    }
    const toWrite = hs ?? this.unsavedCommit ?? undefined;
    this.unsavedCommit = null;
    await storage.persist(toWrite, rd.entries);
  }

  /** Writes a deferred commit index; ordered before any later write by the storage queue. */
  private saveCommit(): Promise<void> {
    const hs = this.unsavedCommit;
    if (hs === null || this.storage === null) return Promise.resolve();
    this.unsavedCommit = null;
    return this.storage.persist(hs, []);
  }

  private send(m: Message): void {
    try {
      this.opts.transport.send(m.to, m);
    } catch (e) {
      // A transport failure loses one message, which Raft tolerates; it must not stop the loop.
      this.logger.warn({ to: m.to, type: m.type, err: (e as Error).message }, 'raft: transport send failed');
    }
  }

  private async applyEntries(entries: readonly Entry[]): Promise<void> {
    for (const e of entries) {
      let outcome: ApplyOutcome = { ok: true, result: undefined };
      if (e.type === 'normal') {
        try {
          let result = this.opts.fsm.apply({ index: e.index, term: e.term, data: e.data });
          if (isPromiseLike(result)) result = await result;
          outcome = { ok: true, result };
          this.counters.applied++;
        } catch (err) {
          // The FSM is deterministic, so every server fails the same way: the error is this
          // entry's result, not a reason to stop applying the log.
          outcome = { ok: false, error: err };
          this.counters.applyErrors++;
          this.logger.warn({ index: e.index, err: (err as Error).message }, 'raft: state machine rejected an entry');
        }
      }
      this.applied = e.index;
      this.pending.settle(e.index, e.term, outcome);
    }
  }

  // ---- bookkeeping --------------------------------------------------------------------

  private running(): RaftCore {
    if (this.state !== 'running' || this.core === null) {
      throw this.failure ?? new YurtError('unavailable', `raft node ${this.opts.id} is not running (${this.state})`);
    }
    return this.core;
  }

  private notLeader(): NotLeaderError {
    const l = this.leader();
    return new NotLeaderError(l?.id, l === null || l.address === '' ? undefined : l.address);
  }

  private observeLeadership(): void {
    const core = this.core;
    if (core === null) return;
    const isLeader = core.role === 'leader';
    if (isLeader === this.wasLeader && core.lead === this.lastLeaderId) return;
    const lost = this.wasLeader && !isLeader;
    this.wasLeader = isLeader;
    this.lastLeaderId = core.lead;
    this.logger.info({ id: this.opts.id, term: core.term, leader: core.lead, isLeader }, 'raft: leadership changed');
    if (lost) {
      this.pending.rejectAll(
        () => new YurtError('leadership_lost', `raft node ${this.opts.id} lost leadership before the entry was applied; it may still commit`),
      );
    }
    this.notifyLeadership(isLeader, this.leader());
  }

  private notifyLeadership(isLeader: boolean, leader: ServerAddress | null): void {
    this.wasLeader = isLeader;
    for (const cb of [...this.listeners]) {
      try {
        cb(isLeader, leader);
      } catch (e) {
        this.logger.error({ err: (e as Error).message }, 'raft: leadership listener threw');
      }
    }
  }

  private observeConfiguration(): void {
    const c = this.core?.configuration();
    if (c === undefined || c.index === this.configIndex) return;
    this.configIndex = c.index;
    const peers = c.configuration.servers.map((s) => ({ id: s.id, address: s.address }));
    this.logger.info({ index: c.index, servers: peers }, 'raft: configuration');
    this.opts.transport.setPeers?.(peers);
  }

  private waitApplied(index: number): Promise<void> {
    if (this.applied >= index) return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.appliedWaiters.push({ index, resolve, reject }));
  }

  private resolveAppliedWaiters(): void {
    for (let i = this.appliedWaiters.length - 1; i >= 0; i--) {
      const w = this.appliedWaiters[i];
      if (w !== undefined && this.applied >= w.index) {
        this.appliedWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private rejectAppliedWaiters(e: Error): void {
    for (const w of this.appliedWaiters.splice(0)) w.reject(e);
  }

  private startFailed(e: unknown): unknown {
    this.state = 'failed';
    this.failure = asYurtError(e);
    this.logger.error({ id: this.opts.id, code: this.failure.code, err: this.failure.message }, 'raft: cannot start');
    return e;
  }

  /** Storage or protocol failure: stop taking part, keep the data as it is for inspection. */
  private fail(e: unknown): void {
    const err = asYurtError(e);
    if (this.failure !== null) return;
    this.failure = err;
    this.state = 'failed';
    clearInterval(this.timer);
    this.logger.error({ id: this.opts.id, code: err.code, err: err.message }, 'raft: node failed and stopped participating');
    this.pending.rejectAll(() => err);
    this.rejectAppliedWaiters(err);
    if (this.wasLeader) this.notifyLeadership(false, null);
  }
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
