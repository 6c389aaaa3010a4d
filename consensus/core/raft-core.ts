/**
 * The Raft algorithm as a pure state machine, in the style of etcd-io/raft: the shell calls
 * `tick()` on a timer and `step(msg)` per message, then takes a `Ready` (state to persist,
 * messages to send once it is durable, entries to apply) and calls `advance`. No clock,
 * disk, network or randomness of its own: time is ticks, randomness is injected.
 *
 * Role behaviour is swapped, not branched: `becomeX` installs `stepX` and the matching
 * tick function. `step` settles terms once (§5.1), then delegates to the role.
 */
import { YurtError } from '../../structs/errors.js';
import type { IndexedConfiguration } from './configuration.js';
import { decodeConfiguration, emptyConfiguration, voterIds } from './configuration.js';
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
  Ready,
  Role,
  SoftState,
  VoteRequest,
  VoteResponse,
} from './messages.js';
import type { ProgressState } from './progress.js';
import { Progress } from './progress.js';
import { committedIndex, voteResult } from './quorum.js';

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
  logger?: CoreLogger;
}

export interface PeerStatus {
  match: number;
  next: number;
  state: ProgressState;
  inflight: number;
  recentActive: boolean;
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
  /** Leader only: each peer's replication progress. */
  progress: Record<string, PeerStatus>;
}

/** A message before the core stamps its own id and term on it. */
type Outgoing<M> = M extends Message ? Omit<M, 'from' | 'term'> : never;

const silentLogger: CoreLogger = { debug() {}, info() {}, warn() {} };
const noData = new Uint8Array(0);

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
  private readonly random: () => number;
  private readonly logger: CoreLogger;

  private config: IndexedConfiguration = emptyConfiguration;
  /** Leader only: replication progress of every server in the configuration, self included. */
  private readonly prs = new Map<string, Progress>();
  /** Candidate only: votes received this term. */
  private readonly votes = new Map<string, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private msgs: Message[] = [];

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
    this.logger = opts.logger ?? silentLogger;

    const storage = opts.storage;
    const hs = storage.initialState();
    const last = storage.lastIndex();
    if (hs.commit > last) {
      throw new YurtError('corrupted', `raft state says commit index ${hs.commit} but the log ends at ${last}`, {
        details: { commit: hs.commit, lastIndex: last },
      });
    }
    let commit = hs.commit;
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
      this.logger.warn({ type: m.type, from: m.from, to: m.to }, 'raft: dropped a message addressed to another server');
      return;
    }
    if (m.term > this.term) {
      // §5.1: a higher term always wins; we learn of a leader only from its appends.
      const leader = m.type === 'app' || m.type === 'heartbeat' ? m.from : null;
      this.logger.info({ from: m.from, term: m.term, ourTerm: this.term, type: m.type }, 'raft: newer term seen');
      this.becomeFollower(m.term, leader);
    } else if (m.term < this.term) {
      if (m.type === 'app' || m.type === 'heartbeat') {
        // A deposed leader still thinks it leads: our reply carries the newer term, which
        // makes it step down. Anything else from an old term is simply stale.
        this.send({ type: 'appResp', to: m.from, reject: false, index: 0, rejectHint: 0, hintTerm: 0 });
      }
      return;
    }
    this.stepRole(m);
  }

  /** Starts an election now, as an election timeout would. Returns whether it did. */
  campaign(): boolean {
    if (this.role === 'leader' || !this.promotable()) return false;
    this.becomeCandidate();
    this.votes.set(this.id, true);
    const voters = voterIds(this.config.configuration);
    if (voteResult(voters, this.votes) === 'won') {
      // A single-voter configuration: our own vote is a majority.
      this.becomeLeader();
      return true;
    }
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const id of voters) {
      if (id !== this.id) this.send({ type: 'vote', to: id, lastLogIndex, lastLogTerm });
    }
    return true;
  }

  /** Appends a command to the leader's log; null when this server is not the leader. */
  propose(data: Uint8Array): { index: number; term: number } | null {
    return this.proposeEntry('normal', data);
  }

  /** Appends an entry the state machine never sees; once it is applied, everything before
   *  it is too. Backs the shell's barrier(). */
  proposeBarrier(): { index: number; term: number } | null {
    return this.proposeEntry('noop', noData);
  }

  // ---- outputs ------------------------------------------------------------------------

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    return (
      this.msgs.length > 0 ||
      this.log.unstable.entries.length > 0 ||
      this.log.hasNextCommittedEntries() ||
      !sameHardState(this.hardState(), this.prevHardState) ||
      !sameSoftState(this.softState(), this.prevSoftState)
    );
  }

  /** Takes the next batch of work. Only one Ready may be outstanding: call `advance` first. */
  ready(): Ready {
    if (this.readyOutstanding) throw new YurtError('internal', 'raft: ready() called before advance() of the previous Ready');
    this.readyOutstanding = true;
    const rd: Ready = {
      entries: this.log.unstableEntries(),
      committedEntries: this.log.nextCommittedEntries(this.maxCommittedSize),
      messages: this.msgs,
    };
    this.msgs = [];
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
    const last = rd.entries.at(-1);
    if (last !== undefined && this.log.stableTo(last.index, last.term) && this.role === 'leader') {
      // The leader counts its own copy only once it is durable, so a single-voter cluster
      // commits exactly on local persistence.
      this.prs.get(this.id)?.maybeUpdate(last.index);
      if (this.maybeCommit()) this.bcastAppend();
    }
    const applied = rd.committedEntries.at(-1);
    if (applied !== undefined) this.log.appliedTo(applied.index);
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

  status(): CoreStatus {
    const progress: Record<string, PeerStatus> = {};
    for (const [id, pr] of this.prs) {
      progress[id] = { match: pr.match, next: pr.next, state: pr.state, inflight: pr.inflights.count(), recentActive: pr.recentActive };
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
      progress,
    };
  }

  /** Whether this server may become leader: it is a voter of its latest configuration. */
  promotable(): boolean {
    return voterIds(this.config.configuration).includes(this.id);
  }

  // ---- roles --------------------------------------------------------------------------

  private becomeFollower(term: number, lead: string | null): void {
    this.stepRole = (m) => this.stepFollower(m);
    this.tickRole = () => this.tickElection();
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomeCandidate(): void {
    if (this.role === 'leader') throw new YurtError('internal', 'raft: leader cannot become candidate');
    this.stepRole = (m) => this.stepCandidate(m);
    this.tickRole = () => this.tickElection();
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.logger.info({ term: this.term }, 'raft: campaigning');
  }

  private becomeLeader(): void {
    if (this.role === 'follower') throw new YurtError('internal', 'raft: follower cannot become leader without an election');
    this.stepRole = (m) => this.stepLeader(m);
    this.tickRole = () => this.tickHeartbeat();
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    this.syncProgress();
    this.prs.get(this.id)?.maybeUpdate(this.log.stableIndex());
    // A no-op of the new term lets the leader commit (and learn the commit point of) the
    // entries of earlier terms (§5.4.2, thesis §6.4).
    this.appendEntries([{ type: 'noop', data: noData }]);
    this.logger.info({ term: this.term, lastIndex: this.log.lastIndex() }, 'raft: became leader');
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = '';
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
    this.votes.clear();
    this.prs.clear();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign();
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      // Where CheckQuorum (a later phase) steps down a leader that lost its majority.
      this.electionElapsed = 0;
    }
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'vote':
        this.handleVote(m);
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
      case 'voteResp':
      case 'appResp':
      case 'heartbeatResp':
        return; // answers meant for a role we no longer hold
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'vote':
        this.handleVote(m);
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
      case 'voteResp':
        this.handleVoteResponse(m);
        return;
      case 'appResp':
      case 'heartbeatResp':
        return;
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'vote':
        this.handleVote(m); // we voted for ourselves this term: refused
        return;
      case 'voteResp':
        return;
      case 'app':
      case 'heartbeat':
        // Election Safety (§5.2) allows one leader per term; a second one means a bug or a
        // misconfigured cluster (two servers sharing an id). Ignore and say so.
        this.logger.warn({ from: m.from, term: m.term }, 'raft: another leader in our term');
        return;
      case 'appResp':
        this.handleAppendResponse(m);
        return;
      case 'heartbeatResp':
        this.handleHeartbeatResponse(m);
        return;
    }
  }

  // ---- handlers (inbound) -------------------------------------------------------------

  private handleVote(m: VoteRequest): void {
    // One vote per term (§5.2), and only for a log at least as up-to-date as ours (§5.4.1).
    const canVote = this.vote === m.from || (this.vote === '' && this.lead === null);
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      this.electionElapsed = 0;
      this.vote = m.from;
      this.send({ type: 'voteResp', to: m.from, reject: false });
    } else {
      this.send({ type: 'voteResp', to: m.from, reject: true });
    }
  }

  private handleVoteResponse(m: VoteResponse): void {
    if (!this.votes.has(m.from)) this.votes.set(m.from, !m.reject);
    switch (voteResult(voterIds(this.config.configuration), this.votes)) {
      case 'won':
        this.becomeLeader();
        this.bcastAppend();
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
    this.logger.debug({ from: m.from, prevIndex: m.prevIndex, prevTerm: m.prevTerm, hint }, 'raft: rejected append');
    this.send({ type: 'appResp', to: m.from, reject: true, index: m.prevIndex, rejectHint: hint.index, hintTerm: hint.term });
  }

  private handleHeartbeat(m: Heartbeat): void {
    // The leader sends min(our match, its commit), which our log is known to hold; the
    // extra min guards against a leader that is wrong about us.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'heartbeatResp', to: m.from });
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
        break;
    }
    if (this.maybeCommit()) this.bcastAppend();
    else if (wasPaused) this.sendAppend(m.from);
    // Fill the follower's window with whatever else is waiting.
    while (this.maybeSendAppend(m.from, false)) {
      /* keep sending */
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
  }

  // ---- leader work (outbound) ---------------------------------------------------------

  private proposeEntry(type: EntryType, data: Uint8Array): { index: number; term: number } | null {
    if (this.role !== 'leader') return null;
    const index = this.appendEntries([{ type, data }]);
    this.bcastAppend();
    return { index, term: this.term };
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
    return last;
  }

  private maybeCommit(): boolean {
    const voters = voterIds(this.config.configuration);
    return this.log.maybeCommit(committedIndex(voters, (id) => this.prs.get(id)?.match ?? 0), this.term);
  }

  private bcastAppend(): void {
    for (const id of this.prs.keys()) {
      if (id !== this.id) this.sendAppend(id);
    }
  }

  private bcastHeartbeat(): void {
    for (const [id, pr] of this.prs) {
      if (id !== this.id) this.send({ type: 'heartbeat', to: id, commit: Math.min(pr.match, this.log.committed) });
    }
  }

  private sendAppend(to: string): void {
    this.maybeSendAppend(to, true);
  }

  /** Sends the next append to `to` if its progress allows; returns whether one was sent. */
  private maybeSendAppend(to: string, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.maxSizePerMsg);
    if (prevTerm === undefined || entries === undefined) {
      // What it needs was compacted away: only a snapshot can bring it up to date.
      this.logger.info({ to, next: pr.next, firstIndex: this.log.firstIndex() }, 'raft: follower needs a snapshot');
      pr.becomeSnapshot();
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

  private send(m: Outgoing<Message>): void {
    this.msgs.push({ ...m, from: this.id, term: this.term });
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

  /** The latest configuration entry at or below `index`, from the unstable tail or storage. */
  private configurationAt(index: number): IndexedConfiguration {
    const u = this.log.unstable;
    for (let i = Math.min(index, u.offset + u.entries.length - 1); i >= u.offset; i--) {
      const e = u.entries[i - u.offset];
      if (e?.type === 'config') return { index: e.index, configuration: decodeConfiguration(e.data, e.index) };
    }
    const e = this.log.storage.lastConfig(Math.min(index, u.offset - 1));
    if (e === undefined) return emptyConfiguration;
    return { index: e.index, configuration: decodeConfiguration(e.data, e.index) };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leaderId === b.leaderId && a.role === b.role;
}

