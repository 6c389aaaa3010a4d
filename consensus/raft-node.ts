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
 * waits for the next Ready, which batches a burst of proposals into one append.
 *
 * Timing defaults (LAN, as etcd): tick 50 ms; heartbeat every 2 ticks (100 ms); election
 * timeout 20 ticks, randomized per term in [1 s, 2 s). A configuration with a single voter
 * campaigns at start instead of waiting for the timeout.
 *
 * Files in `dataDir`: `raft.mdb` (log and hard state), `snapshots/` (state machine
 * snapshots), and, only during outage recovery, `peers.json` (see peers-file.ts).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigChange, Server } from './core/configuration.js';
import { configurationProblems, encodeConfiguration, findServer, voterIds } from './core/configuration.js';
import { checkMessage } from './core/message-guard.js';
import type { Entry, HardState, Message, ReadState, Ready, SnapshotMeta, SnapshotRequest } from './core/messages.js';
import type { CoreStatus, Proposal } from './core/raft-core.js';
import { RaftCore } from './core/raft-core.js';
import { PendingApplies } from './pending-applies.js';
import type { ApplyOutcome } from './pending-applies.js';
import { PEERS_FILE, readPeersFile } from './peers-file.js';
import { RaftStorage } from './storage/raft-storage.js';
import { SnapshotStore } from './storage/snapshot-store.js';
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
  /** The state after the last applied entry. It must capture that state when called (a
   *  read transaction, a copy): entries applied while the bytes are being produced must not
   *  leak into them. A rejection just skips this snapshot. */
  snapshot(): Promise<Uint8Array>;
  /** Replaces the whole state by a snapshot's (taken after applying entry `index` of `term`). */
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
  /** Directory of this server's Raft data (see the file header). */
  dataDir: string;
  /** Initial voters if the store holds no configuration yet (single-node: [{id, address}]).
   *  Without it a new server waits, with an empty configuration, to be added by a leader. */
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
  /** PreVote (thesis §9.6); default true. */
  preVote?: boolean;
  /** CheckQuorum and leader leases for votes (thesis §6.2, §4.2.3); default true. */
  checkQuorum?: boolean;
  /** Unacknowledged appends per follower; default 256. */
  maxInflightMsgs?: number;
  /** Bytes proposed but not applied beyond which apply() is refused with 'unavailable'
   *  (back-pressure); default 32 MiB. */
  maxUncommittedBytes?: number;
  /** Soft cap on the entry bytes of one append; default 1 MiB. */
  maxSizePerMsg?: number;
  /** Take a snapshot after this many entries applied since the last one; 0: never. Default 8192. */
  snapshotThreshold?: number;
  /** Entries kept in the log behind a snapshot, so a follower slightly behind catches up
   *  from the log instead of by snapshot; default 10240 (as hashicorp/raft). */
  trailingLogs?: number;
  /** Snapshots kept on disk; default 2. */
  snapshotRetain?: number;
}

export interface RaftStatus extends CoreStatus {
  nodeState: NodeState;
  appliedIndex: number;
  lastSnapshotIndex: number;
  lastSnapshotTerm: number;
  /** Milliseconds since the leader was last heard from; 0 on the leader; -1: never. */
  lastContactMs: number;
  servers: Array<Server & { leader: boolean }>;
}

export const DEFAULT_TICK_MS = 50;
export const DEFAULT_ELECTION_TICKS = 20;
export const DEFAULT_HEARTBEAT_TICKS = 2;
export const DEFAULT_SNAPSHOT_THRESHOLD = 8192;
export const DEFAULT_TRAILING_LOGS = 10240;
/** How long apply() and barrier() wait by default (as Nomad's RPC hold limits). */
export const DEFAULT_APPLY_TIMEOUT_MS = 30_000;

type NodeState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
type LeadershipListener = (isLeader: boolean, leader: ServerAddress | null) => void;

interface PendingRead {
  /** The confirmed read index; null until the leader confirms it. */
  index: number | null;
  resolve: (index: number) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const silent: RaftLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class RaftNode {
  private readonly opts: RaftNodeOptions;
  private readonly timing: { tickMs: number; electionTicks: number; heartbeatTicks: number };
  private readonly logger: RaftLogger;
  private state: NodeState = 'new';
  private core: RaftCore | null = null;
  private storage: RaftStorage | null = null;
  private snapshots: SnapshotStore | null = null;
  private bootstrapServers: ServerAddress[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private looping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private starting: Promise<void> = Promise.resolve();
  private failure: YurtError | null = null;
  /** A commit index advanced but not yet written (see persist). */
  private unsavedCommit: HardState | null = null;
  private readonly pending = new PendingApplies();
  /** Callers waiting for the state machine to reach an index. */
  private readonly appliedWaiters: Array<{ index: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private readonly reads = new Map<number, PendingRead>();
  private readSeq = 0;
  private applied = 0;
  private wasLeader = false;
  private lastLeaderId: string | null = null;
  private lastLeaderContact = -1;
  private configIndex = -1;
  private snapshotting: Promise<void> | null = null;
  /** After a failed snapshot, wait for this applied index before trying again. */
  private nextSnapshotAt = 0;
  private readonly listeners = new Set<LeadershipListener>();
  private readonly counters = {
    applied: 0,
    applyErrors: 0,
    droppedMessages: 0,
    readies: 0,
    snapshotsTaken: 0,
    commits: 0,
    commitMs: 0,
    snapshotsInstalled: 0,
    snapshotsSent: 0,
    readsServed: 0,
    /** Milliseconds spent waiting for durable writes, and in the state machine. */
    persistMs: 0,
    applyMs: 0,
  };

  /** Whether `dataDir` holds a Raft store already (a server that ran before). */
  static hasState(dataDir: string): boolean {
    return existsSync(join(dataDir, 'raft.mdb'));
  }

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
    const counts: Array<[keyof RaftNodeOptions, number | undefined, number]> = [
      ['maxInflightMsgs', opts.maxInflightMsgs, 1],
      ['maxUncommittedBytes', opts.maxUncommittedBytes, 1],
      ['maxSizePerMsg', opts.maxSizePerMsg, 1],
      ['snapshotThreshold', opts.snapshotThreshold, 0],
      ['trailingLogs', opts.trailingLogs, 0],
      ['snapshotRetain', opts.snapshotRetain, 1],
    ];
    for (const [path, v, min] of counts) {
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= min)) problems.push({ path, message: `must be an integer >= ${min}` });
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
      await storage.useSnapshot(snapshots.latest());
      await this.recoverFromPeersFile(storage);
      const bootstrap = this.bootstrapServers ?? this.opts.bootstrap;
      if (storage.isEmpty() && snapshots.latest() === undefined && bootstrap !== undefined) {
        const servers = bootstrap.map((s): Server => ({ id: s.id, address: s.address, suffrage: 'voter' }));
        await storage.persist({ term: 1, vote: '', commit: 0 }, [{ index: 1, term: 1, type: 'config', data: encodeConfiguration({ servers }) }]);
        this.logger.info({ servers: servers.map((s) => s.id) }, 'bootstrapped a new cluster configuration');
      }
      let applied = this.opts.fsm.lastApplied();
      const snap = storage.snapshot();
      if (applied < storage.firstIndex() - 1) {
        // The entries the state machine misses were compacted: start it from the snapshot.
        const s = await snapshots.read(snap.index);
        if (s === undefined) throw new YurtError('corrupted', `raft snapshot ${snap.index} is missing from ${snapshots.dir}`);
        await this.opts.fsm.restore(s.data, snap.index, snap.term);
        applied = snap.index;
        this.logger.info({ index: snap.index, term: snap.term }, 'restored the state machine from a snapshot');
      }
      core = new RaftCore({
        id: this.opts.id,
        storage,
        applied,
        random: this.opts.random ?? Math.random,
        electionTicks: this.timing.electionTicks,
        heartbeatTicks: this.timing.heartbeatTicks,
        ...(this.opts.preVote !== undefined ? { preVote: this.opts.preVote } : {}),
        ...(this.opts.checkQuorum !== undefined ? { checkQuorum: this.opts.checkQuorum } : {}),
        ...(this.opts.maxInflightMsgs !== undefined ? { maxInflightMsgs: this.opts.maxInflightMsgs } : {}),
        ...(this.opts.maxUncommittedBytes !== undefined ? { maxUncommittedBytes: this.opts.maxUncommittedBytes } : {}),
        ...(this.opts.maxSizePerMsg !== undefined ? { maxSizePerMsg: this.opts.maxSizePerMsg } : {}),
        logger: this.logger,
      });
    } catch (e) {
      await storage.close();
      throw this.startFailed(e);
    }
    this.storage = storage;
    this.snapshots = snapshots;
    this.core = core;
    this.applied = core.log.applied;
    const replayTo = core.log.committed;
    this.logger.info(
      {
        id: this.opts.id,
        term: core.term,
        firstIndex: storage.firstIndex(),
        lastIndex: storage.lastIndex(),
        commit: replayTo,
        applied: this.applied,
        snapshot: storage.snapshot().index,
      },
      'starting',
    );
    this.opts.transport.onMessage((m) => this.receive(m));
    // Unref'd: the node alone does not keep a process alive; its owner's listeners do.
    this.timer = setInterval(() => this.onTick(), this.timing.tickMs).unref();
    this.state = 'running';
    this.observeConfiguration();
    const voters = voterIds(core.configuration().configuration);
    if (voters.length === 1 && voters[0] === this.opts.id) core.campaign();
    this.afterInput();
    await this.waitApplied(replayTo);
  }

  /**
   * peers.json (see peers-file.ts): with a quorum permanently lost, the survivors replace
   * their configuration. The new configuration is appended as the next entry of a new term,
   * so it can never be mistaken for an entry some other server holds at that index; the file
   * is deleted only once that entry is durable.
   */
  private async recoverFromPeersFile(storage: RaftStorage): Promise<void> {
    const path = join(this.opts.dataDir, PEERS_FILE);
    const config = readPeersFile(path);
    if (config === undefined) return;
    const hs = storage.initialState();
    const lastIndex = storage.lastIndex();
    const term = Math.max(hs.term, storage.term(lastIndex) ?? 0) + 1;
    await storage.persist({ term, vote: '', commit: hs.commit }, [
      { index: lastIndex + 1, term, type: 'config', data: encodeConfiguration(config) },
    ]);
    rmSync(path);
    this.logger.warn(
      { index: lastIndex + 1, term, servers: config.servers.map((s) => `${s.id}@${s.address}${s.suffrage === 'voter' ? '' : ' (nonvoter)'}`) },
      `recovered the configuration from ${PEERS_FILE}; the file was removed`,
    );
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
    await this.snapshotting?.catch(() => undefined);
    if (this.state !== 'failed') await this.saveCommit().catch((e: unknown) => this.fail(e));
    const stopped = () => new YurtError('unavailable', `raft node ${this.opts.id} stopped`);
    this.pending.rejectAll(stopped);
    this.rejectAppliedWaiters(stopped());
    this.rejectReads(() => true, stopped);
    if (this.wasLeader) this.notifyLeadership(false, null);
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
    const ctx = ++this.readSeq;
    if (!core.readIndex(ctx)) throw this.notLeader();
    const done = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(ctx);
        reject(new YurtError('timeout', `linearizable read not confirmed within ${timeoutMs} ms`));
      }, timeoutMs);
      this.reads.set(ctx, { index: null, resolve, reject, timer });
    });
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
    await this.waitCaughtUp(id, deadline);
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
    const limit = timeoutMs ?? 3 * this.timing.electionTicks * this.timing.tickMs;
    const moved = new Promise<ServerAddress>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new YurtError('timeout', `leadership was not transferred within ${limit} ms`));
      }, limit);
      const unsubscribe = this.onLeadershipChange((isLeader, leader) => {
        if (isLeader || leader === null) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(leader);
      });
    });
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
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  appliedIndex(): number {
    return this.applied;
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
    const core = this.core;
    const st: CoreStatus = core?.status() ?? {
      id: this.opts.id,
      term: 0,
      vote: '',
      role: 'follower',
      leaderId: null,
      firstIndex: 0,
      lastIndex: 0,
      lastTerm: 0,
      commit: 0,
      applied: 0,
      configIndex: 0,
      snapshotIndex: 0,
      leadTransferee: null,
      uncommittedBytes: 0,
      pendingReads: 0,
      progress: {},
    };
    const snap = this.storage?.snapshot();
    return {
      ...st,
      nodeState: this.state,
      appliedIndex: this.applied,
      lastSnapshotIndex: snap?.index ?? 0,
      lastSnapshotTerm: snap?.term ?? 0,
      lastContactMs: st.role === 'leader' ? 0 : this.lastLeaderContact < 0 ? -1 : Date.now() - this.lastLeaderContact,
      servers: (core?.configuration().configuration.servers ?? []).map((s) => ({ ...s, leader: s.id === st.leaderId })),
    };
  }

  /** Counters in hashicorp/raft's names where one exists. */
  stats(): Record<string, string | number> {
    const st = this.status();
    const running = this.core !== null && this.state === 'running';
    const roleName = { leader: 'Leader', follower: 'Follower', candidate: 'Candidate', precandidate: 'Candidate' } as const;
    const me = st.servers.find((s) => s.id === this.opts.id);
    return {
      state: running ? roleName[st.role] : this.state === 'failed' ? 'Failed' : 'Shutdown',
      node_state: this.state,
      term: st.term,
      last_log_index: st.lastIndex,
      last_log_term: st.lastTerm,
      commit_index: st.commit,
      applied_index: this.applied,
      first_log_index: st.firstIndex,
      last_snapshot_index: st.lastSnapshotIndex,
      last_snapshot_term: st.lastSnapshotTerm,
      latest_configuration_index: st.configIndex,
      latest_configuration: `[${st.servers.map((s) => `{Suffrage:${s.suffrage === 'voter' ? 'Voter' : 'Nonvoter'} ID:${s.id} Address:${s.address}}`).join(' ')}]`,
      num_peers: Math.max(0, st.servers.filter((s) => s.suffrage === 'voter').length - (me?.suffrage === 'voter' ? 1 : 0)),
      num_voters: st.servers.filter((s) => s.suffrage === 'voter').length,
      num_nonvoters: st.servers.filter((s) => s.suffrage === 'nonvoter').length,
      suffrage: me?.suffrage ?? 'none',
      protocol_version: 3,
      last_contact: st.lastContactMs < 0 ? 'never' : st.lastContactMs,
      leader_id: st.leaderId ?? '',
      lead_transferee: st.leadTransferee ?? '',
      fsm_pending: this.pending.size,
      pending_reads: this.reads.size,
      uncommitted_bytes: st.uncommittedBytes,
      applied_commands: this.counters.applied,
      apply_errors: this.counters.applyErrors,
      reads_served: this.counters.readsServed,
      dropped_messages: this.counters.droppedMessages,
      readies: this.counters.readies,
      persist_ms: Math.round(this.counters.persistMs),
      commits: this.counters.commits,
      commit_ms: Math.round(this.counters.commitMs),
      apply_ms: Math.round(this.counters.applyMs),
      snapshots_taken: this.counters.snapshotsTaken,
      snapshots_installed: this.counters.snapshotsInstalled,
      snapshots_sent: this.counters.snapshotsSent,
      failure: this.failure?.message ?? '',
    };
  }

  // ---- inputs -------------------------------------------------------------------------

  private onTick(): void {
    if (this.state !== 'running' || this.core === null) return;
    if (!this.looping) {
      this.saveCommit().catch((e: unknown) => this.fail(e));
      // A snapshot due while the previous one was still being written starts when idle.
      if (this.storage !== null) this.maybeSnapshot(this.core, this.storage);
    }
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
      this.logger.warn({ reason: check.reason }, 'dropped a malformed message');
      return;
    }
    const m = check.message;
    try {
      this.core.step(m);
    } catch (e) {
      this.fail(e);
      return;
    }
    if ((m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') && m.from === this.core.lead) this.lastLeaderContact = Date.now();
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
        for (const m of rd.earlyMessages) this.send(m);
        if (rd.snapshot !== undefined) await this.installSnapshot(storage, rd.snapshot);
        const t0 = performance.now();
        await this.persist(storage, rd);
        const t1 = performance.now();
        for (const m of rd.messages) this.send(m);
        if (rd.committedEntries.length > 0) await this.applyEntries(rd.committedEntries);
        this.counters.persistMs += t1 - t0;
        this.counters.applyMs += performance.now() - t1;
        this.readStates(rd.readStates);
        core.advance(rd);
        this.observeLeadership();
        this.observeConfiguration();
        this.resolveAppliedWaiters();
        this.maybeSnapshot(core, storage);
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

  /**
   * A snapshot from the leader: stored durably first (so a crash mid-way finds it and
   * finishes the job at start, see RaftStorage.useSnapshot), then the state machine is
   * replaced, then the log.
   */
  private async installSnapshot(storage: RaftStorage, snap: { meta: SnapshotMeta; data: Uint8Array }): Promise<void> {
    const { meta, data } = snap;
    await this.snapshots!.save(meta, data);
    await this.opts.fsm.restore(data, meta.index, meta.term);
    await storage.installSnapshot(meta);
    this.applied = meta.index;
    this.counters.snapshotsInstalled++;
    this.pending.rejectUpTo(
      meta.index,
      () => new YurtError('leadership_lost', `raft entries up to ${meta.index} arrived in a snapshot from another leader; the outcome of this one is unknown`),
    );
    this.logger.info({ index: meta.index, term: meta.term, bytes: data.byteLength }, 'installed a snapshot from the leader');
  }

  /** Starts a snapshot of the state machine once enough entries were applied since the last. */
  private maybeSnapshot(core: RaftCore, storage: RaftStorage): void {
    const threshold = this.opts.snapshotThreshold ?? DEFAULT_SNAPSHOT_THRESHOLD;
    const last = storage.snapshot().index;
    if (threshold === 0 || this.snapshotting !== null || this.applied - last < threshold || this.applied < this.nextSnapshotAt) return;
    const index = this.applied;
    const term = storage.term(index);
    if (term === undefined) return;
    const c = core.configurationAt(index);
    const meta: SnapshotMeta = { index, term, configIndex: c.index, configuration: c.configuration };
    // Called now, between two applies: the state machine captures exactly `index`.
    const bytes = this.opts.fsm.snapshot();
    this.snapshotting = (async () => {
      const data = await bytes;
      await this.snapshots!.save(meta, data);
      storage.setSnapshot(meta);
      const trailing = this.opts.trailingLogs ?? DEFAULT_TRAILING_LOGS;
      if (index - trailing > storage.firstIndex() - 1) await storage.compact(index - trailing);
      this.counters.snapshotsTaken++;
      this.logger.info({ index, term, bytes: data.byteLength, firstIndex: storage.firstIndex() }, 'took a snapshot');
    })()
      .catch((e: unknown) => {
        this.nextSnapshotAt = index + threshold;
        this.logger.warn({ index, err: (e as Error).message }, 'snapshot failed; will try again later');
      })
      .finally(() => {
        this.snapshotting = null;
      });
  }

  private send(m: Message): void {
    if (m.type === 'snap') {
      void this.sendSnapshot(m);
      return;
    }
    try {
      this.opts.transport.send(m.to, m);
    } catch (e) {
      // A transport failure loses one message, which Raft tolerates; it must not stop the loop.
      this.logger.warn({ to: m.to, type: m.type, err: (e as Error).message }, 'transport send failed');
    }
  }

  /** The core names the snapshot; its bytes come from the store, read asynchronously. */
  private async sendSnapshot(m: SnapshotRequest): Promise<void> {
    try {
      const s = await this.snapshots?.read(m.snapshot.index);
      if (s === undefined) throw new YurtError('not_found', `snapshot ${m.snapshot.index} is no longer retained`);
      this.opts.transport.send(m.to, { ...m, data: s.data });
      this.counters.snapshotsSent++;
      this.logger.info({ to: m.to, index: m.snapshot.index, bytes: s.data.byteLength }, 'sent a snapshot');
    } catch (e) {
      this.logger.warn({ to: m.to, index: m.snapshot.index, err: (e as Error).message }, 'could not send a snapshot');
      if (this.state === 'running') {
        this.core?.reportSnapshotFailure(m.to);
        this.kick();
      }
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
          this.logger.warn({ index: e.index, err: (err as Error).message }, 'state machine rejected an entry');
        }
      }
      this.applied = e.index;
      this.pending.settle(e.index, e.term, outcome);
    }
  }

  private readStates(states: readonly ReadState[]): void {
    for (const rs of states) {
      const r = this.reads.get(rs.ctx);
      if (r === undefined || r.index !== null) continue;
      if (rs.ok) {
        r.index = rs.index;
      } else {
        this.reads.delete(rs.ctx);
        clearTimeout(r.timer);
        r.reject(new YurtError('leadership_lost', 'the leader could not confirm the read; retry'));
      }
    }
  }

  /** Reads whose index the state machine has reached are answered. */
  private serveReads(): void {
    for (const [ctx, r] of this.reads) {
      if (r.index === null || this.applied < r.index) continue;
      this.reads.delete(ctx);
      clearTimeout(r.timer);
      this.counters.readsServed++;
      r.resolve(r.index);
    }
  }

  private rejectReads(which: (r: PendingRead) => boolean, error: () => Error): void {
    for (const [ctx, r] of this.reads) {
      if (!which(r)) continue;
      this.reads.delete(ctx);
      clearTimeout(r.timer);
      r.reject(error());
    }
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

  /**
   * Thesis §4.2.1: replicate to the new server in rounds, each up to the leader's last index
   * when the round began; when a round takes less than an election timeout, the server is
   * close enough that promoting it will not stall commits. At most ten rounds.
   */
  private async waitCaughtUp(id: string, deadline: number): Promise<void> {
    const electionMs = this.timing.electionTicks * this.timing.tickMs;
    for (let round = 0; round < 10; round++) {
      const target = this.running().log.lastIndex();
      const started = Date.now();
      for (;;) {
        const core = this.running();
        if (core.role !== 'leader') throw this.notLeader();
        const pr = core.status().progress[id];
        if (pr === undefined) throw new YurtError('not_found', `server ${id} is not in the configuration`);
        if (pr.match >= target) break;
        if (Date.now() > deadline) {
          throw new YurtError('timeout', `server ${id} did not catch up with the log in time (at ${pr.match} of ${target})`, {
            details: { id, match: pr.match, target },
          });
        }
        await new Promise((r) => setTimeout(r, this.timing.tickMs));
      }
      if (Date.now() - started <= electionMs) return;
    }
    throw new YurtError('timeout', `server ${id} keeps falling behind the log; not promoting it`, { details: { id } });
  }

  // ---- bookkeeping --------------------------------------------------------------------

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
    const isLeader = core.role === 'leader';
    if (isLeader === this.wasLeader && core.lead === this.lastLeaderId) return;
    const lost = this.wasLeader && !isLeader;
    this.wasLeader = isLeader;
    if (core.lead !== this.lastLeaderId) {
      // Reads forwarded to (or confirmed by) a leader that is gone will never be answered.
      this.rejectReads(
        (r) => r.index === null,
        () => new YurtError('leadership_lost', 'the leader changed before the read was confirmed; retry'),
      );
      if (core.lead !== null && core.lead !== this.opts.id) this.lastLeaderContact = Date.now();
    }
    this.lastLeaderId = core.lead;
    this.logger.info({ id: this.opts.id, term: core.term, leader: core.lead, isLeader }, 'leadership changed');
    if (lost) {
      // What is committed will be applied, and its callers answered, whoever leads next.
      this.pending.rejectAbove(
        core.log.committed,
        () => new YurtError('leadership_lost', `raft node ${this.opts.id} lost leadership before the entry was committed; it may still commit`),
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
        this.logger.error({ err: (e as Error).message }, 'leadership listener threw');
      }
    }
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
    this.serveReads();
  }

  private rejectAppliedWaiters(e: Error): void {
    for (const w of this.appliedWaiters.splice(0)) w.reject(e);
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
    this.rejectAppliedWaiters(err);
    this.rejectReads(() => true, () => err);
    if (this.wasLeader) this.notifyLeadership(false, null);
  }
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
