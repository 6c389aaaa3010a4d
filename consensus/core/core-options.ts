/**
 * How a RaftCore is set up: the storage it reads, its randomness, its timing in ticks and
 * its flow-control limits. Defaults are applied in core-state.ts.
 */
import type { LogStorage } from './log-storage.js';

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
