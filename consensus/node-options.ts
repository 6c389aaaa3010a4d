/**
 * What a RaftNode is given: its identity and data directory, the transport, the state
 * machine it replicates, and its timing and limits, with their defaults and validation.
 */
import type { Server } from './core/configuration.js';
import { configurationProblems } from './core/configuration.js';
import type { Transport } from './transport/transport.js';
import { ValidationError } from '../structs/errors.js';
import type { FieldError } from '../structs/errors.js';

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
  /** Directory of this server's Raft data (see raft-node.ts's header). */
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

export const DEFAULT_TICK_MS = 50;
export const DEFAULT_ELECTION_TICKS = 20;
export const DEFAULT_HEARTBEAT_TICKS = 2;
export const DEFAULT_SNAPSHOT_THRESHOLD = 8192;
export const DEFAULT_TRAILING_LOGS = 10240;
/** How long apply() and barrier() wait by default (as Nomad's RPC hold limits). */
export const DEFAULT_APPLY_TIMEOUT_MS = 30_000;

export interface NodeTiming {
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
}

/** Checks the options; returns the timing with defaults filled in. */
export function checkNodeOptions(opts: RaftNodeOptions): NodeTiming {
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
  return { tickMs, electionTicks, heartbeatTicks };
}
