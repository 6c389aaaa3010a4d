/**
 * Everything a RaftCore knows, in one object the algorithm's modules share (etcd-io/raft's
 * `raft` struct): settings drawn from the options, the persistent state (term, vote, log),
 * the volatile state of the current role, and the outbox. The modules beside it are
 * functions over this object; RaftCore owns one and dispatches to them.
 */
import { YurtError } from '../../structs/errors.js';
import type { IndexedConfiguration } from './configuration.js';
import { emptyConfiguration, voterIds } from './configuration.js';
import type { CoreLogger, RaftCoreOptions } from './core-options.js';
import { RaftLog } from './log.js';
import type { HardState, Message, ReadState, Role, SoftState } from './messages.js';
import type { Progress } from './progress.js';

/** A message before the core stamps its own id (and, unless given, its term) on it. */
export type Outgoing<M> = M extends Message ? Omit<M, 'from' | 'term'> & { term?: number } : never;

export interface PendingRead {
  /** Heartbeat round whose acknowledgement by a majority confirms this read. */
  seq: number;
  index: number;
  from: string;
  ctx: number;
  acks: Set<string>;
}

/** What a role does with a message and with a tick (etcd's `r.step` and `r.tick`). */
export interface RoleBehaviour {
  step: (s: CoreState, m: Message) => void;
  tick: (s: CoreState) => void;
}

/** The behaviour of each role; precandidates behave as candidates. RaftCore supplies it, so
 *  the functions that change roles (roles.ts) need not import every handler a role uses. */
export interface RoleBehaviours {
  follower: RoleBehaviour;
  candidate: RoleBehaviour;
  leader: RoleBehaviour;
}

export const noData = new Uint8Array(0);

const silentLogger: CoreLogger = { debug() {}, info() {}, warn() {} };

export class CoreState {
  readonly id: string;
  term = 0;
  vote = '';
  lead: string | null = null;
  role: Role = 'follower';
  readonly log: RaftLog;

  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly maxSizePerMsg: number;
  readonly maxInflight: number;
  readonly maxCommittedSize: number;
  readonly maxUncommittedSize: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly snapshotTimeout: number;
  readonly random: () => number;
  readonly logger: CoreLogger;
  readonly behaviours: RoleBehaviours;

  config: IndexedConfiguration = emptyConfiguration;
  /** Leader only: replication progress of every server in the configuration, self included. */
  readonly prs = new Map<string, Progress>();
  /** (Pre)candidate only: votes received this round. */
  readonly votes = new Map<string, boolean>();
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  // Leader only.
  leadTransferee: string | null = null;
  uncommittedSize = 0;
  /** New entries were appended; appends go out with the next Ready, so a burst of
   *  proposals travels in one message per follower. */
  pendingBcast = false;
  /** A read-index round waits for its heartbeat broadcast. */
  pendingHeartbeat = false;
  readSeq = 0;
  readQueue: PendingRead[] = [];
  /** Reads that arrived before the leader committed an entry of its term (§6.4 step 1). */
  deferredReads: Array<{ from: string; ctx: number }> = [];

  prevHardState: HardState;
  /** Set by RaftCore once the starting role is in place. */
  prevSoftState: SoftState = { leaderId: null, role: 'follower' };
  readyOutstanding = false;

  /** The current role's behaviour; installed by the becomeX functions of roles.ts. */
  stepRole: RoleBehaviour['step'];
  tickRole: RoleBehaviour['tick'];

  constructor(opts: RaftCoreOptions, behaviours: RoleBehaviours) {
    this.id = opts.id;
    this.random = opts.random;
    this.behaviours = behaviours;
    this.stepRole = behaviours.follower.step;
    this.tickRole = behaviours.follower.tick;
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
  }

  send(m: Outgoing<Message>): void {
    this.msgs.push({ term: this.term, ...m, from: this.id });
  }

  softState(): SoftState {
    return { leaderId: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** Whether this server may become leader: it is a voter of its latest configuration. */
  promotable(): boolean {
    return voterIds(this.config.configuration).includes(this.id);
  }

  /** Whether the leader has committed an entry of its own term, and so knows the commit point. */
  committedInTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /** Vote requests are taken from members only, or from anyone while we know of no
   *  configuration at all (a server waiting to be added). */
  mayVoteFor(id: string): boolean {
    const servers = this.config.configuration.servers;
    return servers.length === 0 || servers.some((s) => s.id === id);
  }

  /** While a leader is known and heard from within an election timeout. */
  inLease(): boolean {
    return this.checkQuorum && this.lead !== null && this.electionElapsed < this.electionTimeout;
  }

  randomizeElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
  }
}
