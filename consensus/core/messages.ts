/**
 * The vocabulary of the Raft core: log entries, the messages peers exchange, and the
 * `Ready` batch the shell takes out of the core (what to persist, send and apply).
 *
 * Messages are a discriminated union on `type`; every handler switches over it
 * exhaustively, so adding a message kind is a compile error everywhere it is not handled.
 */
import type { Configuration } from './configuration.js';

/** `noop`: the entry a new leader appends at the start of its term (Raft thesis §6.4), also
 *  used by barriers; `config`: a cluster configuration (see configuration.ts). */
export type EntryType = 'normal' | 'noop' | 'config';

export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must survive a crash before this node answers anyone (Raft paper Figure 2). */
export interface HardState {
  term: number;
  /** Candidate voted for in `term`; '' when none. */
  vote: string;
  commit: number;
}

/** `precandidate`: asking whether it could win before disturbing anyone (PreVote, thesis §9.6). */
export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

/** Volatile state the shell reports (leadership callbacks); never persisted. */
export interface SoftState {
  leaderId: string | null;
  role: Role;
}

/** What a snapshot stands for: the state machine after applying entry `index` (of `term`),
 *  and the configuration in force at that point (thesis §5.1). */
export interface SnapshotMeta {
  index: number;
  term: number;
  /** Index of the configuration entry the snapshot carries (0: none). */
  configIndex: number;
  configuration: Configuration;
}

export const noSnapshot: SnapshotMeta = { index: 0, term: 0, configIndex: 0, configuration: { servers: [] } };

interface Envelope {
  from: string;
  to: string;
  /** The sender's current term (§5.1: every message carries it); for a pre-vote, the term
   *  the candidate would campaign in. */
  term: number;
}

/** RequestVote (§5.2). `transfer`: sent on a leader's TimeoutNow, so voters must not
 *  refuse it just because they heard from that leader recently (thesis §3.10). */
export interface VoteRequest extends Envelope {
  type: 'vote';
  lastLogIndex: number;
  lastLogTerm: number;
  transfer: boolean;
}

export interface VoteResponse extends Envelope {
  type: 'voteResp';
  reject: boolean;
}

/** "Would you vote for me in `term`?" — changes nobody's term or vote (thesis §9.6). */
export interface PreVoteRequest extends Envelope {
  type: 'preVote';
  lastLogIndex: number;
  lastLogTerm: number;
}

export interface PreVoteResponse extends Envelope {
  type: 'preVoteResp';
  reject: boolean;
}

/** AppendEntries carrying entries (possibly none, to probe or to move the commit index). */
export interface AppendRequest extends Envelope {
  type: 'app';
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
  commit: number;
}

export interface AppendResponse extends Envelope {
  type: 'appResp';
  reject: boolean;
  /** Accepted: the highest index known to match the leader. Rejected: the prevIndex refused. */
  index: number;
  /** On rejection, the follower's guess of the last index that may match (etcd's
   *  findConflictByTerm) and its term, so the leader skips a whole term per round trip. */
  rejectHint: number;
  hintTerm: number;
}

/** Heartbeats are separate from appends (as in etcd) so they can carry a commit index that
 *  is safe for a follower whose log is not known to match: min(match, leader commit).
 *  `ctx` is the newest read-index round the leader wants confirmed (0: none). */
export interface Heartbeat extends Envelope {
  type: 'heartbeat';
  commit: number;
  ctx: number;
}

export interface HeartbeatResponse extends Envelope {
  type: 'heartbeatResp';
  ctx: number;
}

/** InstallSnapshot (§7). The core fills in `meta` only and leaves `data` empty: the shell
 *  attaches the snapshot's bytes on the way out, so the core never holds them. */
export interface SnapshotRequest extends Envelope {
  type: 'snap';
  snapshot: SnapshotMeta;
  data: Uint8Array;
}

/** Leadership transfer: "start an election now" (thesis §3.10). */
export interface TimeoutNow extends Envelope {
  type: 'timeoutNow';
}

/** A follower asks the leader for a read index on behalf of a local reader (thesis §6.4). */
export interface ReadIndexRequest extends Envelope {
  type: 'readIndex';
  ctx: number;
}

export interface ReadIndexResponse extends Envelope {
  type: 'readIndexResp';
  ctx: number;
  /** The confirmed read index; meaningless when rejected. */
  index: number;
  reject: boolean;
}

export type Message =
  | VoteRequest
  | VoteResponse
  | PreVoteRequest
  | PreVoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | SnapshotRequest
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message['type'];

/** The outcome of a `readIndex(ctx)` request: once the state machine has applied `index`,
 *  a read reflects every write acknowledged before the request (linearizable). `ok` false:
 *  the leader refused (it is no longer leader); the caller should retry elsewhere. */
export interface ReadState {
  ctx: number;
  index: number;
  ok: boolean;
}

/**
 * One batch of work for the shell, to be handled in this order:
 * 1. send `earlyMessages` at once: a leader's appends and heartbeats, which promise nothing
 *    about its own disk, so its fsync overlaps the followers' (thesis §10.2.1);
 * 2. persist `snapshot` (and restore the state machine from it), then `hardState` and
 *    `entries`, durably;
 * 3. send `messages` — only now, because votes and acks promise durable state;
 * 4. apply `committedEntries` to the state machine in order; answer `readStates` once the
 *    state machine has applied their index;
 * 5. call `advance(ready)`.
 */
export interface Ready {
  hardState?: HardState;
  entries: Entry[];
  /** A snapshot received from the leader that replaces the log up to its index. */
  snapshot?: { meta: SnapshotMeta; data: Uint8Array };
  committedEntries: Entry[];
  earlyMessages: Message[];
  messages: Message[];
  readStates: ReadState[];
  softState?: SoftState;
}

export function entrySize(e: Entry): number {
  // A rough wire size: the payload plus index/term/type framing.
  return e.data.byteLength + 24;
}
