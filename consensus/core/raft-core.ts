/**
 * The Raft algorithm as a pure state machine, in the style of etcd-io/raft: the shell calls
 * `tick()` on a timer and `step(msg)` per message, then takes a `Ready` (state to persist,
 * messages to send, entries to apply) and calls `advance`. No clock, disk, network or
 * randomness of its own: time is ticks, randomness is injected.
 *
 * Role behaviour is swapped, not branched: `becomeX` installs `stepX` and the matching
 * tick function. `step` settles terms once (§5.1), then delegates to the role.
 *
 * Beyond the paper's core (§5): PreVote and CheckQuorum (thesis §9.6, §6.2), ReadIndex
 * reads (§6.4), leadership transfer (§3.10), single-server membership changes (§4.1-4.2),
 * snapshots (§5 of the thesis, §7 of the paper), and flow control — a window of in-flight
 * appends per follower and a cap on the bytes proposed but not yet committed.
 */
import type { ErrorCode } from '../../structs/errors.js';
import { YurtError } from '../../structs/errors.js';
import type { ConfigChange, IndexedConfiguration, Suffrage } from './configuration.js';
import { applyConfigChange, decodeConfiguration, emptyConfiguration, encodeConfiguration, findServer, voterIds } from './configuration.js';
import { RaftLog } from './log.js';
import type { LogStorage } from './log-storage.js';
import type {
  AppendRequest,
  AppendResponse,
  Entry,
  EntryType,
  HardState,
  Heartbeat,
  HeartbeatResponse,
  Message,
  PreVoteRequest,
  PreVoteResponse,
  ReadIndexResponse,
  ReadState,
  Ready,
  Role,
  SnapshotMeta,
  SnapshotRequest,
  SoftState,
  VoteRequest,
  VoteResponse,
} from './messages.js';
import type { ProgressState } from './progress.js';
import { Progress } from './progress.js';
import { committedIndex, isMajority, voteResult } from './quorum.js';

export interface CoreLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RaftCoreOptions {
  id: string;
  storage: LogStorage;
  /** Randomness in [0, 1) for election timeouts; pass a seeded one for reproducible runs. */
  random: () => number;
  /** Highest index the state machine has durably applied; committed entries after it are
   *  handed out again (replay after a restart). */
  applied?: number;
  /** Base election timeout in ticks; each term draws one in [electionTicks, 2*electionTicks). */
  electionTicks?: number;
  /** Leader heartbeat interval in ticks; must be well below electionTicks. */
  heartbeatTicks?: number;
  /** Soft cap on the entry bytes of one append message. */
  maxSizePerMsg?: number;
  /** Appends in flight to one follower in replicate state before the leader waits for acks. */
  maxInflightMsgs?: number;
  /** Soft cap on the entry bytes handed to the state machine in one Ready. */
  maxCommittedSizePerReady?: number;
  /** Payload bytes the leader accepts beyond its commit index before refusing proposals
   *  (back-pressure instead of unbounded memory when followers or the disk fall behind). */
  maxUncommittedBytes?: number;
  /** Ask before campaigning (thesis §9.6); default true. */
  preVote?: boolean;
  /** A leader that has not heard from a majority within an election timeout steps down,
   *  and followers that heard from a leader within one ignore vote requests; default true. */
  checkQuorum?: boolean;
  /** Leader ticks after which a snapshot that was not acknowledged is sent again. */
  snapshotTimeoutTicks?: number;
  logger?: CoreLogger;
}

/** What a proposal to the leader came to. `unchanged`: a membership change that was already
 *  in effect (index is the configuration entry holding it). */
export type Proposal =
  | { ok: true; index: number; term: number; unchanged?: boolean }
  | { ok: false; code: ErrorCode; reason: string; details?: Record<string, unknown> };

export interface PeerStatus {
  suffrage: Suffrage;
  match: number;
  next: number;
  state: ProgressState;
  inflight: number;
  recentActive: boolean;
  pendingSnapshot: number;
}

export interface CoreStatus {
  id: string;
  term: number;
  vote: string;
  role: Role;
  leaderId: string | null;
  firstIndex: number;
  lastIndex: number;
  lastTerm: number;
  commit: number;
  applied: number;
  configIndex: number;
  snapshotIndex: number;
  /** Leader only: who leadership is being handed to. */
  leadTransferee: string | null;
  /** Leader only: payload bytes proposed and not yet applied. */
  uncommittedBytes: number;
  /** Leader only: read-index requests waiting for confirmation. */
  pendingReads: number;
  /** Leader only: each server's replication progress. */
  progress: Record<string, PeerStatus>;
}

/** A message before the core stamps its own id (and, unless given, its term) on it. */
type Outgoing<M> = M extends Message ? Omit<M, 'from' | 'term'> & { term?: number } : never;

interface PendingRead {
  /** Heartbeat round whose acknowledgement by a majority confirms this read. */
  seq: number;
  index: number;
  from: string;
  ctx: number;
  acks: Set<string>;
}

const silentLogger: CoreLogger = { debug() {}, info() {}, warn() {} };
const noData = new Uint8Array(0);

/** Messages only a leader sends: they promise nothing about its disk, so once its term is
 *  durable they may leave before the Ready's entries are (thesis §10.2.1). */
const leaderMessageTypes: ReadonlySet<Message['type']> = new Set(['app', 'heartbeat', 'snap', 'timeoutNow', 'readIndexResp']);

export class RaftCore {
  readonly id: string;
  term = 0;
  vote = '';
  lead: string | null = null;
  role: Role = 'follower';
  readonly log: RaftLog;

  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private readonly maxSizePerMsg: number;
  private readonly maxInflight: number;
  private readonly maxCommittedSize: number;
  private readonly maxUncommittedSize: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly snapshotTimeout: number;
  private readonly random: () => number;
  private readonly logger: CoreLogger;

  private config: IndexedConfiguration = emptyConfiguration;
  /** Leader only: replication progress of every server in the configuration, self included. */
  private readonly prs = new Map<string, Progress>();
  /** (Pre)candidate only: votes received this round. */
  private readonly votes = new Map<string, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];

  // Leader only.
  private leadTransferee: string | null = null;
  private uncommittedSize = 0;
  /** New entries were appended; appends go out with the next Ready, so a burst of
   *  proposals travels in one message per follower. */
  private pendingBcast = false;
  /** A read-index round waits for its heartbeat broadcast. */
  private pendingHeartbeat = false;
  private readSeq = 0;
  private readQueue: PendingRead[] = [];
  /** Reads that arrived before the leader committed an entry of its term (§6.4 step 1). */
  private deferredReads: Array<{ from: string; ctx: number }> = [];

  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private readyOutstanding = false;

  private stepRole: (m: Message) => void = (m) => this.stepFollower(m);
  private tickRole: () => void = () => this.tickElection();

  constructor(opts: RaftCoreOptions) {
    this.id = opts.id;
    this.random = opts.random;
    this.electionTimeout = opts.electionTicks ?? 10;
    this.heartbeatTimeout = opts.heartbeatTicks ?? 1;
    if (this.heartbeatTimeout < 1 || this.electionTimeout <= this.heartbeatTimeout) {
      throw new YurtError(
        'invalid_argument',
        `electionTicks (${this.electionTimeout}) must be greater than heartbeatTicks (${this.heartbeatTimeout}) >= 1`,
      );
    }
    this.maxSizePerMsg = opts.maxSizePerMsg ?? 1024 * 1024;
    this.maxInflight = opts.maxInflightMsgs ?? 256;
    this.maxCommittedSize = opts.maxCommittedSizePerReady ?? 8 * 1024 * 1024;
    this.maxUncommittedSize = opts.maxUncommittedBytes ?? 32 * 1024 * 1024;
    this.preVote = opts.preVote ?? true;
    this.checkQuorum = opts.checkQuorum ?? true;
    this.snapshotTimeout = opts.snapshotTimeoutTicks ?? 10 * this.electionTimeout;
    this.logger = opts.logger ?? silentLogger;

    const storage = opts.storage;
    const hs = storage.initialState();
    const last = storage.lastIndex();
    if (hs.commit > last) {
      throw new YurtError('corrupted', `raft state says commit index ${hs.commit} but the log ends at ${last}`, {
        details: { commit: hs.commit, lastIndex: last },
      });
    }
    // Whatever was compacted into a snapshot had been applied, hence committed.
    let commit = Math.max(hs.commit, storage.firstIndex() - 1);
    const applied = opts.applied ?? 0;
    if (applied > commit) {
      // The state machine only ever applies committed entries, so they were committed even
      // if the commit index on disk lags behind.
      if (applied > last) {
        throw new YurtError('corrupted', `state machine applied index ${applied} is beyond the raft log's last index ${last}`, {
          details: { applied, lastIndex: last },
        });
      }
      commit = applied;
    }
    if (applied < storage.firstIndex() - 1) {
      throw new YurtError(
        'internal',
        `state machine applied index ${applied} is below the compacted log (first index ${storage.firstIndex()}): restore a snapshot first`,
      );
    }
    this.log = new RaftLog(storage, commit, applied);
    this.term = hs.term;
    this.vote = hs.vote;
    this.prevHardState = hs;
    this.config = this.configurationAt(this.log.lastIndex());
    this.becomeFollower(hs.term, null);
    this.prevSoftState = this.softState();
  }

  // ---- inputs -------------------------------------------------------------------------

  /** One unit of logical time. */
  tick(): void {
    this.tickRole();
  }

  step(m: Message): void {
    if (m.to !== this.id) {
      this.logger.warn({ type: m.type, from: m.from, to: m.to }, 'dropped a message addressed to another server');
      return;
    }
    if ((m.type === 'vote' || m.type === 'preVote') && !this.mayVoteFor(m.from)) {
      // A server outside our configuration (typically one removed while it was cut off,
      // which never learnt it was removed) must not disturb the cluster by campaigning.
      this.logger.debug({ from: m.from, term: m.term }, 'ignored a vote request from a server outside the configuration');
      return;
    }
    if (m.term > this.term) {
      if ((m.type === 'vote' && !m.transfer) || m.type === 'preVote') {
        if (this.inLease()) {
          // We heard from a leader less than an election timeout ago: a candidate that
          // cannot hear it is not a reason to depose it (thesis §4.2.3).
          this.logger.debug({ from: m.from, term: m.term, type: m.type }, 'ignored a vote request: the leader is alive');
          return;
        }
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
        // Pre-votes are about a term nobody holds yet; they change no one's term.
      } else {
        const leader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap' ? m.from : null;
        this.logger.info({ from: m.from, term: m.term, ourTerm: this.term, type: m.type }, 'newer term seen');
        this.becomeFollower(m.term, leader);
      }
    } else if (m.term < this.term) {
      switch (m.type) {
        case 'app':
        case 'heartbeat':
        case 'snap':
          // A deposed leader still thinks it leads: our reply carries the newer term, which
          // makes it step down. It also unsticks a server whose term ran ahead while it was
          // cut off and that CheckQuorum keeps from winning votes.
          this.send({ type: 'appResp', to: m.from, reject: false, index: 0, rejectHint: 0, hintTerm: 0 });
          return;
        case 'preVote':
          // Tell the pre-candidate about the newer term so it stops asking.
          this.send({ type: 'preVoteResp', to: m.from, reject: true });
          return;
        default:
          return; // stale
      }
    }
    this.stepRole(m);
  }

  /** Starts an election now, as an election timeout would (with a pre-vote first when
   *  enabled). Returns whether it did. */
  campaign(): boolean {
    return this.hup(false);
  }

  /** Appends a command to the leader's log. */
  propose(data: Uint8Array): Proposal {
    return this.proposeEntry('normal', data);
  }

  /** Appends an entry the state machine never sees; once it is applied, everything before
   *  it is too. Backs the shell's barrier(). */
  proposeBarrier(): Proposal {
    return this.proposeEntry('noop', noData);
  }

  /**
   * Proposes one membership change. Refused while another one is uncommitted (single-server
   * changes are safe only one at a time, thesis §4.1) and before the leader has committed an
   * entry of its own term (the fix to single-server changes in Ongaro's 2015 erratum).
   */
  proposeConfigChange(change: ConfigChange): Proposal {
    const refused = this.refuseProposal();
    if (refused !== null) return refused;
    const next = applyConfigChange(this.config.configuration, change);
    if (next instanceof YurtError) return { ok: false, code: next.code, reason: next.message };
    if (next === null) return { ok: true, index: this.config.index, term: this.term, unchanged: true };
    if (this.config.index > this.log.committed) {
      return {
        ok: false,
        code: 'conflict',
        reason: `the configuration change at index ${this.config.index} is not committed yet; membership changes go one at a time`,
      };
    }
    if (!this.committedInTerm()) {
      return { ok: false, code: 'unavailable', reason: 'the new leader has not committed an entry of its term yet; retry shortly' };
    }
    const index = this.appendEntries([{ type: 'config', data: encodeConfiguration(next) }]);
    this.logger.info({ change, index }, 'proposed a configuration change');
    // Removing a voter can shrink the majority enough to commit what is already replicated.
    if (this.maybeCommit()) this.afterCommit();
    return { ok: true, index, term: this.term };
  }

  /**
   * Hands leadership to `to` (default: the most up-to-date voter): once its log matches
   * ours it is told to campaign at once (TimeoutNow, thesis §3.10). Proposals are refused
   * meanwhile; the attempt is abandoned after an election timeout.
   */
  transferLeadership(to?: string): Proposal {
    if (this.role !== 'leader') return this.notLeaderRefusal();
    const target = to ?? this.bestTransferTarget();
    if (target === undefined) return { ok: false, code: 'unavailable', reason: 'there is no other voter to hand leadership to' };
    if (target === this.id) return { ok: false, code: 'invalid_argument', reason: `${target} is already the leader` };
    const pr = this.prs.get(target);
    if (pr === undefined || !voterIds(this.config.configuration).includes(target)) {
      return { ok: false, code: 'invalid_argument', reason: `${target} is not a voter of the configuration` };
    }
    if (this.leadTransferee !== target) {
      this.logger.info({ to: target, match: pr.match, lastIndex: this.log.lastIndex() }, 'transferring leadership');
      this.leadTransferee = target;
      // The transfer must finish within one election timeout.
      this.electionElapsed = 0;
      if (pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to: target });
      else this.sendAppend(target);
    }
    return { ok: true, index: this.log.lastIndex(), term: this.term };
  }

  /**
   * Asks for a linearizable read index (thesis §6.4); `ctx` identifies the request in the
   * `ReadState` that answers it. The leader confirms it still leads with a heartbeat round
   * acknowledged by a majority; a follower forwards the request to its leader. Returns
   * false when no leader is known.
   */
  readIndex(ctx: number): boolean {
    if (this.role === 'leader') {
      this.handleReadIndexRequest(this.id, ctx);
      return true;
    }
    if (this.lead === null || this.lead === this.id) return false;
    this.send({ type: 'readIndex', to: this.lead, ctx });
    return true;
  }

  /** The shell could not deliver the snapshot sent to `to`: try again instead of waiting. */
  reportSnapshotFailure(to: string): void {
    const pr = this.prs.get(to);
    if (this.role === 'leader' && pr?.state === 'snapshot') {
      pr.snapshotFailed();
      this.logger.info({ to }, 'snapshot delivery failed; will retry');
    }
  }

  // ---- outputs ------------------------------------------------------------------------

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    return (
      this.msgs.length > 0 ||
      this.pendingBcast ||
      this.pendingHeartbeat ||
      this.readStates.length > 0 ||
      this.log.unstable.entries.length > 0 ||
      this.log.unstable.snapshot !== undefined ||
      this.log.hasNextCommittedEntries() ||
      !sameHardState(this.hardState(), this.prevHardState) ||
      !sameSoftState(this.softState(), this.prevSoftState)
    );
  }

  /** Takes the next batch of work. Only one Ready may be outstanding: call `advance` first. */
  ready(): Ready {
    if (this.readyOutstanding) throw new YurtError('internal', 'raft: ready() called before advance() of the previous Ready');
    if (this.pendingBcast) this.bcastAppend();
    if (this.pendingHeartbeat) this.bcastHeartbeat();
    this.pendingBcast = false;
    this.pendingHeartbeat = false;
    this.readyOutstanding = true;
    const early: Message[] = [];
    const late: Message[] = [];
    // A leader whose term is not yet durable (it may have just won) must not let anything
    // carrying that term out before it is: a crash could let it vote again in that term.
    const termDurable = this.role === 'leader' && this.prevHardState.term === this.term;
    for (const m of this.msgs) (termDurable && leaderMessageTypes.has(m.type) ? early : late).push(m);
    this.msgs = [];
    const rd: Ready = {
      entries: this.log.unstableEntries(),
      committedEntries: this.log.nextCommittedEntries(this.maxCommittedSize),
      earlyMessages: early,
      messages: late,
      readStates: this.readStates,
    };
    this.readStates = [];
    const snap = this.log.unstable.snapshot;
    if (snap !== undefined) rd.snapshot = snap;
    const hs = this.hardState();
    if (!sameHardState(hs, this.prevHardState)) rd.hardState = hs;
    const ss = this.softState();
    if (!sameSoftState(ss, this.prevSoftState)) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    return rd;
  }

  /** The shell persisted `rd`, sent its messages and applied its committed entries. */
  advance(rd: Ready): void {
    if (!this.readyOutstanding) throw new YurtError('internal', 'raft: advance() without an outstanding Ready');
    this.readyOutstanding = false;
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState;
    if (rd.snapshot !== undefined) this.log.stableSnapTo(rd.snapshot.meta.index);
    const last = rd.entries.at(-1);
    if (last !== undefined && this.log.stableTo(last.index, last.term) && this.role === 'leader') {
      // The leader counts its own copy only once it is durable, so a single-voter cluster
      // commits exactly on local persistence.
      this.prs.get(this.id)?.maybeUpdate(last.index);
      if (this.maybeCommit()) this.afterCommit();
    }
    const applied = rd.committedEntries.at(-1);
    if (applied !== undefined) {
      this.log.appliedTo(applied.index);
      let size = 0;
      for (const e of rd.committedEntries) size += e.data.byteLength;
      // Entries of earlier leaders were never counted here: clamp at zero.
      this.uncommittedSize = Math.max(0, this.uncommittedSize - size);
    }
  }

  // ---- queries ------------------------------------------------------------------------

  configuration(): IndexedConfiguration {
    return this.config;
  }

  softState(): SoftState {
    return { leaderId: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** Whom leadership is being handed to, if a transfer is under way. */
  transferee(): string | null {
    return this.leadTransferee;
  }

  status(): CoreStatus {
    const progress: Record<string, PeerStatus> = {};
    for (const [id, pr] of this.prs) {
      progress[id] = {
        suffrage: findServer(this.config.configuration, id)?.suffrage ?? 'nonvoter',
        match: pr.match,
        next: pr.next,
        state: pr.state,
        inflight: pr.inflights.count(),
        recentActive: pr.recentActive,
        pendingSnapshot: pr.pendingSnapshot,
      };
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      role: this.role,
      leaderId: this.lead,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
      commit: this.log.committed,
      applied: this.log.applied,
      configIndex: this.config.index,
      snapshotIndex: this.log.snapshot().index,
      leadTransferee: this.leadTransferee,
      uncommittedBytes: this.uncommittedSize,
      pendingReads: this.readQueue.length + this.deferredReads.length,
      progress,
    };
  }

  /** Whether this server may become leader: it is a voter of its latest configuration. */
  promotable(): boolean {
    return voterIds(this.config.configuration).includes(this.id);
  }

  /** The latest configuration at or below `index`: from the unstable tail, the stored
   *  configuration entries, or the snapshot that replaced them. */
  configurationAt(index: number): IndexedConfiguration {
    const u = this.log.unstable;
    for (let i = Math.min(index, u.offset + u.entries.length - 1); i >= u.offset; i--) {
      const e = u.entries[i - u.offset];
      if (e?.type === 'config') return { index: e.index, configuration: decodeConfiguration(e.data, e.index) };
    }
    const pending = u.snapshot?.meta;
    if (pending !== undefined) return { index: pending.configIndex, configuration: pending.configuration };
    const storage = this.log.storage;
    const e = storage.lastConfig(Math.min(index, u.offset - 1));
    const snap = storage.snapshot();
    if (e !== undefined && e.index >= snap.configIndex) return { index: e.index, configuration: decodeConfiguration(e.data, e.index) };
    // No configuration entry above the snapshot's up to `index`: the snapshot's is in force.
    if (snap.index > 0 && snap.configIndex <= index) return { index: snap.configIndex, configuration: snap.configuration };
    return emptyConfiguration;
  }

  // ---- roles --------------------------------------------------------------------------

  private becomeFollower(term: number, lead: string | null): void {
    this.stepRole = (m) => this.stepFollower(m);
    this.tickRole = () => this.tickElection();
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    if (this.role === 'leader') throw new YurtError('internal', 'raft: leader cannot become pre-candidate');
    // Neither the term nor the vote changes: a pre-vote round disturbs nobody (thesis §9.6).
    this.stepRole = (m) => this.stepCandidate(m);
    this.tickRole = () => this.tickElection();
    this.votes.clear();
    this.lead = null;
    this.role = 'precandidate';
    this.randomizeElectionTimeout();
    this.logger.info({ term: this.term }, 'starting a pre-vote');
  }

  private becomeCandidate(): void {
    if (this.role === 'leader') throw new YurtError('internal', 'raft: leader cannot become candidate');
    this.stepRole = (m) => this.stepCandidate(m);
    this.tickRole = () => this.tickElection();
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.logger.info({ term: this.term }, 'campaigning');
  }

  private becomeLeader(): void {
    if (this.role === 'follower') throw new YurtError('internal', 'raft: follower cannot become leader without an election');
    this.stepRole = (m) => this.stepLeader(m);
    this.tickRole = () => this.tickHeartbeat();
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    this.syncProgress();
    const self = this.prs.get(this.id);
    if (self !== undefined) {
      self.maybeUpdate(this.log.stableIndex());
      self.recentActive = true;
    }
    // A no-op of the new term lets the leader commit (and learn the commit point of) the
    // entries of earlier terms (§5.4.2, thesis §6.4).
    this.appendEntries([{ type: 'noop', data: noData }]);
    this.logger.info({ term: this.term, lastIndex: this.log.lastIndex() }, 'became leader');
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = '';
    }
    this.failReads();
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizeElectionTimeout();
    this.votes.clear();
    this.prs.clear();
    this.leadTransferee = null;
    this.uncommittedSize = 0;
    this.pendingBcast = false;
    this.pendingHeartbeat = false;
  }

  private randomizeElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
  }

  /** Starts a (pre-)election; `transfer`: on a leader's TimeoutNow, which skips the pre-vote. */
  private hup(transfer: boolean): boolean {
    if (this.role === 'leader' || !this.promotable()) return false;
    if (this.preVote && !transfer) this.becomePreCandidate();
    else this.becomeCandidate();
    this.campaignRound(transfer);
    return true;
  }

  private campaignRound(transfer: boolean): void {
    const pre = this.role === 'precandidate';
    this.votes.set(this.id, true);
    const voters = voterIds(this.config.configuration);
    if (voteResult(voters, this.votes) === 'won') {
      // A single-voter configuration: our own vote is a majority.
      if (pre) {
        this.becomeCandidate();
        this.campaignRound(transfer);
      } else {
        this.becomeLeader();
      }
      return;
    }
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const to of voters) {
      if (to === this.id) continue;
      if (pre) this.send({ type: 'preVote', to, term: this.term + 1, lastLogIndex, lastLogTerm });
      else this.send({ type: 'vote', to, lastLogIndex, lastLogTerm, transfer });
    }
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.quorumActive()) {
        // A leader cut off from a majority steps down rather than keep accepting writes it
        // cannot commit and answering reads it cannot confirm (thesis §6.2).
        this.logger.warn({ term: this.term }, 'stepping down: no majority heard from within an election timeout');
        this.becomeFollower(this.term, null);
        return;
      }
      if (this.leadTransferee !== null) {
        this.logger.warn({ to: this.leadTransferee }, 'leadership transfer timed out');
        this.leadTransferee = null;
      }
    }
    for (const [id, pr] of this.prs) {
      if (pr.state === 'snapshot' && ++pr.snapshotElapsed >= this.snapshotTimeout) {
        this.logger.info({ to: id, index: pr.pendingSnapshot }, 'snapshot not acknowledged in time; will retry');
        pr.snapshotFailed();
      }
    }
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'vote':
      case 'preVote':
        this.handleVoteRequest(m);
        return;
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'timeoutNow':
        if (this.hup(true)) this.logger.info({ from: m.from, term: this.term }, 'leadership handed to us; campaigning at once');
        return;
      case 'readIndex':
        this.send({ type: 'readIndexResp', to: m.from, ctx: m.ctx, index: 0, reject: true });
        return;
      case 'readIndexResp':
        this.handleReadIndexResponse(m);
        return;
      case 'voteResp':
      case 'preVoteResp':
      case 'appResp':
      case 'heartbeatResp':
        return; // answers meant for a role we no longer hold
    }
  }

  /** Candidates and pre-candidates. */
  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'vote':
      case 'preVote':
        this.handleVoteRequest(m);
        return;
      case 'app':
        // §5.2: a leader of our own term exists; concede.
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'voteResp':
        if (this.role === 'candidate') this.handleVoteResponse(m);
        return;
      case 'preVoteResp':
        if (this.role === 'precandidate') this.handleVoteResponse(m);
        return;
      case 'readIndex':
        this.send({ type: 'readIndexResp', to: m.from, ctx: m.ctx, index: 0, reject: true });
        return;
      case 'readIndexResp':
        this.handleReadIndexResponse(m);
        return;
      case 'timeoutNow': // already campaigning
      case 'appResp':
      case 'heartbeatResp':
        return;
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'vote':
      case 'preVote':
        this.handleVoteRequest(m); // we voted for ourselves this term: refused
        return;
      case 'app':
      case 'heartbeat':
      case 'snap':
        // Election Safety (§5.2) allows one leader per term; a second one means a bug or a
        // misconfigured cluster (two servers sharing an id). Ignore and say so.
        this.logger.warn({ from: m.from, term: m.term }, 'another leader in our term');
        return;
      case 'appResp':
        this.handleAppendResponse(m);
        return;
      case 'heartbeatResp':
        this.handleHeartbeatResponse(m);
        return;
      case 'readIndex':
        this.handleReadIndexRequest(m.from, m.ctx);
        return;
      case 'voteResp':
      case 'preVoteResp':
      case 'timeoutNow':
      case 'readIndexResp':
        return;
    }
  }

  // ---- handlers (inbound) -------------------------------------------------------------

  private handleVoteRequest(m: VoteRequest | PreVoteRequest): void {
    const pre = m.type === 'preVote';
    // One vote per term (§5.2); a pre-vote for a later term commits us to nothing.
    const canVote = this.vote === m.from || (this.vote === '' && this.lead === null) || (pre && m.term > this.term);
    // ...and only for a log at least as up-to-date as ours (§5.4.1).
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      if (pre) {
        // Granted with the term asked about, so the pre-candidate counts it for that round.
        this.send({ type: 'preVoteResp', to: m.from, term: m.term, reject: false });
      } else {
        this.electionElapsed = 0;
        this.vote = m.from;
        this.send({ type: 'voteResp', to: m.from, reject: false });
      }
    } else {
      this.send({ type: pre ? 'preVoteResp' : 'voteResp', to: m.from, reject: true });
    }
  }

  private handleVoteResponse(m: VoteResponse | PreVoteResponse): void {
    if (!this.votes.has(m.from)) this.votes.set(m.from, !m.reject);
    switch (voteResult(voterIds(this.config.configuration), this.votes)) {
      case 'won':
        if (this.role === 'precandidate') {
          this.becomeCandidate();
          this.campaignRound(false);
        } else {
          this.becomeLeader();
        }
        return;
      case 'lost':
        this.becomeFollower(this.term, null);
        return;
      case 'pending':
        return;
    }
  }

  private handleAppend(m: AppendRequest): void {
    if (m.prevIndex < this.log.committed) {
      // Our committed prefix already agrees with any leader (§5.4); tell it where we are.
      this.send({ type: 'appResp', to: m.from, reject: false, index: this.log.committed, rejectHint: 0, hintTerm: 0 });
      return;
    }
    const configBefore = this.config.index;
    const lastNew = this.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      const first = m.entries[0];
      if (first !== undefined && (configBefore >= first.index || m.entries.some((e) => e.type === 'config'))) {
        this.setConfiguration(this.configurationAt(this.log.lastIndex()));
      }
      this.send({ type: 'appResp', to: m.from, reject: false, index: lastNew, rejectHint: 0, hintTerm: 0 });
      return;
    }
    const hint = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm);
    this.logger.debug({ from: m.from, prevIndex: m.prevIndex, prevTerm: m.prevTerm, hint }, 'rejected append');
    this.send({ type: 'appResp', to: m.from, reject: true, index: m.prevIndex, rejectHint: hint.index, hintTerm: hint.term });
  }

  private handleHeartbeat(m: Heartbeat): void {
    // The leader sends min(our match, its commit), which our log is known to hold; the
    // extra min guards against a leader that is wrong about us.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'heartbeatResp', to: m.from, ctx: m.ctx });
  }

  private handleSnapshot(m: SnapshotRequest): void {
    const s = m.snapshot;
    if (this.restore(s, m.data)) {
      this.logger.info({ from: m.from, index: s.index, term: s.term }, 'restoring a snapshot from the leader');
      this.send({ type: 'appResp', to: m.from, reject: false, index: this.log.lastIndex(), rejectHint: 0, hintTerm: 0 });
    } else {
      this.send({ type: 'appResp', to: m.from, reject: false, index: this.log.committed, rejectHint: 0, hintTerm: 0 });
    }
  }

  /** Returns whether the snapshot replaces our log (false: we already have what it holds). */
  private restore(s: SnapshotMeta, data: Uint8Array): boolean {
    if (s.index <= this.log.committed) return false;
    if (this.log.matchTerm(s.index, s.term)) {
      // Our log already holds the snapshot's last entry, hence everything before it
      // (Log Matching, §5.3): only the commit index moves.
      this.log.commitTo(s.index);
      return false;
    }
    this.log.restore(s, data);
    this.setConfiguration({ index: s.configIndex, configuration: s.configuration });
    return true;
  }

  private handleAppendResponse(m: AppendResponse): void {
    const pr = this.prs.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (m.reject) {
      const hint = m.hintTerm > 0 ? this.log.findConflictByTerm(m.rejectHint, m.hintTerm).index : m.rejectHint;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    const learned = pr.maybeUpdate(m.index);
    if (!learned && !(pr.state === 'probe' && pr.match === m.index)) return;
    switch (pr.state) {
      case 'probe':
        pr.becomeReplicate();
        break;
      case 'replicate':
        pr.inflights.freeLE(m.index);
        break;
      case 'snapshot':
        // Whatever snapshot it installed, once the log can take over from there, do.
        if (pr.match + 1 >= this.log.firstIndex()) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
    }
    if (this.maybeCommit()) this.afterCommit();
    // A follower that was paused may now take more; the pending broadcast covers it if set.
    else if (wasPaused && !this.pendingBcast) this.sendAppend(m.from);
    // Fill the follower's window with whatever else is waiting.
    while (this.maybeSendAppend(m.from, false)) {
      /* keep sending */
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.logger.info({ to: m.from }, 'transferee caught up; sending TimeoutNow');
      this.send({ type: 'timeoutNow', to: m.from });
    }
  }

  private handleHeartbeatResponse(m: HeartbeatResponse): void {
    const pr = this.prs.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.probeSent = false;
    // A lost ack must not block a full window forever: free one slot per heartbeat.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.ctx > 0) this.ackReads(m.from, m.ctx);
  }

  private handleReadIndexRequest(from: string, ctx: number): void {
    if (!this.committedInTerm()) {
      // Until its no-op commits, a new leader does not know the commit index (§6.4 step 1).
      this.deferredReads.push({ from, ctx });
      return;
    }
    const read: PendingRead = { seq: ++this.readSeq, index: this.log.committed, from, ctx, acks: new Set([this.id]) };
    if (this.readConfirmed(read)) {
      this.answerRead(read); // a single voter needs nobody's confirmation
      return;
    }
    this.readQueue.push(read);
    this.pendingHeartbeat = true;
  }

  private ackReads(from: string, seq: number): void {
    let confirmed = -1;
    for (const [i, r] of this.readQueue.entries()) {
      if (r.seq > seq) break;
      // The heartbeat of round `seq` left after every read up to it was queued, so a reply
      // proves we still led when each of them arrived.
      r.acks.add(from);
      if (this.readConfirmed(r)) confirmed = i;
    }
    if (confirmed < 0) return;
    // Earlier rounds have at least the acks of later ones: release in order.
    for (const r of this.readQueue.splice(0, confirmed + 1)) this.answerRead(r);
  }

  private readConfirmed(r: PendingRead): boolean {
    return isMajority(voterIds(this.config.configuration), (id) => r.acks.has(id));
  }

  private answerRead(r: { from: string; ctx: number; index: number }): void {
    if (r.from === this.id) this.readStates.push({ ctx: r.ctx, index: r.index, ok: true });
    else this.send({ type: 'readIndexResp', to: r.from, ctx: r.ctx, index: r.index, reject: false });
  }

  private handleReadIndexResponse(m: ReadIndexResponse): void {
    this.readStates.push({ ctx: m.ctx, index: m.index, ok: !m.reject });
  }

  /** Leadership is gone: every read waiting for confirmation fails. */
  private failReads(): void {
    for (const r of [...this.readQueue, ...this.deferredReads]) {
      if (r.from === this.id) this.readStates.push({ ctx: r.ctx, index: 0, ok: false });
      else this.send({ type: 'readIndexResp', to: r.from, ctx: r.ctx, index: 0, reject: true });
    }
    this.readQueue = [];
    this.deferredReads = [];
  }

  // ---- leader work (outbound) ---------------------------------------------------------

  private notLeaderRefusal(): Proposal {
    return { ok: false, code: 'not_leader', reason: 'not the leader', details: { leaderId: this.lead } };
  }

  private refuseProposal(): Proposal | null {
    if (this.role !== 'leader') return this.notLeaderRefusal();
    if (this.leadTransferee !== null) {
      return {
        ok: false,
        code: 'unavailable',
        reason: `leadership is being transferred to ${this.leadTransferee}`,
        details: { transferee: this.leadTransferee },
      };
    }
    return null;
  }

  private proposeEntry(type: EntryType, data: Uint8Array): Proposal {
    const refused = this.refuseProposal();
    if (refused !== null) return refused;
    const size = data.byteLength;
    if (size > 0 && this.uncommittedSize > 0 && this.uncommittedSize + size > this.maxUncommittedSize) {
      return {
        ok: false,
        code: 'unavailable',
        reason: `back-pressure: ${this.uncommittedSize} bytes of proposals are not yet committed (limit ${this.maxUncommittedSize})`,
        details: { reason: 'backpressure', uncommittedBytes: this.uncommittedSize, limit: this.maxUncommittedSize },
      };
    }
    this.uncommittedSize += size;
    const index = this.appendEntries([{ type, data }]);
    return { ok: true, index, term: this.term };
  }

  /** Appends new entries of the current term; returns the last index. They count toward
   *  the leader's own match only once durable (see advance). */
  private appendEntries(ents: ReadonlyArray<{ type: EntryType; data: Uint8Array }>): number {
    const first = this.log.lastIndex() + 1;
    const full: Entry[] = ents.map((e, i) => ({ index: first + i, term: this.term, type: e.type, data: e.data }));
    const last = this.log.append(full);
    const lastConfig = full.findLast((e) => e.type === 'config');
    if (lastConfig !== undefined) {
      this.setConfiguration({ index: lastConfig.index, configuration: decodeConfiguration(lastConfig.data, lastConfig.index) });
    }
    this.pendingBcast = true;
    return last;
  }

  private maybeCommit(): boolean {
    const voters = voterIds(this.config.configuration);
    return this.log.maybeCommit(committedIndex(voters, (id) => this.prs.get(id)?.match ?? 0), this.term);
  }

  /** The commit index moved on the leader. */
  private afterCommit(): void {
    // Followers learn the new commit index with the next Ready's appends.
    this.pendingBcast = true;
    if (this.committedInTerm() && this.deferredReads.length > 0) {
      const deferred = this.deferredReads;
      this.deferredReads = [];
      for (const r of deferred) this.handleReadIndexRequest(r.from, r.ctx);
    }
    this.maybeStepDownAfterRemoval();
  }

  /**
   * A leader that removed itself keeps managing the cluster until that change commits, then
   * steps down (thesis §4.2.2), telling the most up-to-date voter to campaign at once so the
   * cluster does not wait out an election timeout.
   */
  private maybeStepDownAfterRemoval(): void {
    if (this.role !== 'leader' || this.promotable() || this.log.committed < this.config.index) return;
    this.bcastAppend();
    const target = this.bestTransferTarget();
    if (target !== undefined && this.prs.get(target)?.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to: target });
    this.logger.info({ term: this.term, handedTo: target ?? null }, 'stepping down: this server was removed from the configuration');
    this.becomeFollower(this.term, null);
  }

  /** The voter (other than us) with the longest matching log. */
  private bestTransferTarget(): string | undefined {
    let best: string | undefined;
    let bestMatch = -1;
    for (const id of voterIds(this.config.configuration)) {
      const m = this.prs.get(id)?.match ?? -1;
      if (id !== this.id && m > bestMatch) {
        best = id;
        bestMatch = m;
      }
    }
    return best;
  }

  /** Whether the leader has committed an entry of its own term, and so knows the commit point. */
  private committedInTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /** CheckQuorum: a majority of voters was heard from since the last check. */
  private quorumActive(): boolean {
    const active = isMajority(voterIds(this.config.configuration), (id) => id === this.id || (this.prs.get(id)?.recentActive ?? false));
    for (const [id, pr] of this.prs) if (id !== this.id) pr.recentActive = false;
    return active;
  }

  private bcastAppend(): void {
    for (const id of this.prs.keys()) {
      if (id !== this.id) this.sendAppend(id);
    }
  }

  private bcastHeartbeat(): void {
    const ctx = this.readQueue.at(-1)?.seq ?? 0;
    for (const [id, pr] of this.prs) {
      if (id !== this.id) this.send({ type: 'heartbeat', to: id, commit: Math.min(pr.match, this.log.committed), ctx });
    }
  }

  private sendAppend(to: string): void {
    this.maybeSendAppend(to, true);
  }

  /** Sends the next append (or the snapshot) to `to` if its progress allows; returns whether
   *  an append was sent. */
  private maybeSendAppend(to: string, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.maxSizePerMsg);
    if (prevTerm === undefined || entries === undefined) {
      this.sendSnapshot(to, pr);
      return false;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'app', to, prevIndex, prevTerm, entries, commit: this.log.committed });
    const last = entries.at(-1);
    switch (pr.state) {
      case 'replicate':
        if (last !== undefined) {
          pr.optimisticUpdate(last.index);
          pr.inflights.add(last.index);
        }
        break;
      case 'probe':
        pr.probeSent = true;
        break;
      case 'snapshot':
        break;
    }
    return true;
  }

  /** What the follower needs was compacted away: only a snapshot can bring it up to date. */
  private sendSnapshot(to: string, pr: Progress): void {
    const snapshot = this.log.snapshot();
    if (snapshot.index === 0) {
      this.logger.warn({ to, next: pr.next }, 'follower needs compacted entries but there is no snapshot yet');
      return;
    }
    this.logger.info({ to, next: pr.next, firstIndex: this.log.firstIndex(), snapshot: snapshot.index }, 'sending a snapshot');
    pr.becomeSnapshot(snapshot.index);
    this.send({ type: 'snap', to, snapshot, data: noData });
  }

  private send(m: Outgoing<Message>): void {
    this.msgs.push({ term: this.term, ...m, from: this.id });
  }

  // ---- configuration ------------------------------------------------------------------

  private setConfiguration(c: IndexedConfiguration): void {
    this.config = c;
    if (this.role === 'leader') this.syncProgress();
  }

  /** Leader: one Progress per server of the configuration, keeping what we know. */
  private syncProgress(): void {
    const ids = new Set(this.config.configuration.servers.map((s) => s.id));
    for (const id of this.prs.keys()) {
      if (!ids.has(id)) this.prs.delete(id);
    }
    for (const id of ids) {
      if (!this.prs.has(id)) this.prs.set(id, new Progress(this.log.lastIndex() + 1, this.maxInflight));
    }
  }

  /** Vote requests are taken from members only, or from anyone while we know of no
   *  configuration at all (a server waiting to be added). */
  private mayVoteFor(id: string): boolean {
    const servers = this.config.configuration.servers;
    return servers.length === 0 || servers.some((s) => s.id === id);
  }

  /** While a leader is known and heard from within an election timeout. */
  private inLease(): boolean {
    return this.checkQuorum && this.lead !== null && this.electionElapsed < this.electionTimeout;
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leaderId === b.leaderId && a.role === b.role;
}
