/**
 * The vocabulary of the Raft core: log entries, the messages peers exchange, and the
 * `Ready` batch the shell takes out of the core (what to persist, send and apply).
 *
 * Messages are a discriminated union on `type`; every handler switches over it
 * exhaustively, so adding a message kind (PreVote, ReadIndex, TimeoutNow, snapshot
 * install) is a compile error everywhere it is not yet handled.
 */

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

export type Role = 'follower' | 'candidate' | 'leader';

/** Volatile state the shell reports (leadership callbacks); never persisted. */
export interface SoftState {
  leaderId: string | null;
  role: Role;
}

interface Envelope {
  from: string;
  to: string;
  /** The sender's current term (§5.1: every message carries it). */
  term: number;
}

/** RequestVote (§5.2). */
export interface VoteRequest extends Envelope {
  type: 'vote';
  lastLogIndex: number;
  lastLogTerm: number;
}

export interface VoteResponse extends Envelope {
  type: 'voteResp';
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
 *  is safe for a follower whose log is not known to match: min(match, leader commit). */
export interface Heartbeat extends Envelope {
  type: 'heartbeat';
  commit: number;
}

export interface HeartbeatResponse extends Envelope {
  type: 'heartbeatResp';
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse;

export type MessageType = Message['type'];

/**
 * One batch of work for the shell, to be handled in this order:
 * 1. persist `hardState` and `entries` durably (one transaction, then fsync);
 * 2. send `messages` — only now, because votes and acks promise durable state;
 * 3. apply `committedEntries` to the state machine in order;
 * 4. call `advance(ready)`.
 */
export interface Ready {
  hardState?: HardState;
  entries: Entry[];
  committedEntries: Entry[];
  messages: Message[];
  softState?: SoftState;
}

export function entrySize(e: Entry): number {
  // A rough wire size: the payload plus index/term/type framing.
  return e.data.byteLength + 24;
}
