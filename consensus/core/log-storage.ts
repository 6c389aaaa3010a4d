/**
 * The durable log as the core sees it: a synchronous, read-only view. The shell writes to
 * it (from a `Ready`) and guarantees that whatever `advance` reports as persisted is
 * readable here. LMDB reads are synchronous, which is what lets the pure core consult the
 * real store without I/O of its own.
 */
import type { Entry, HardState, SnapshotMeta } from './messages.js';

export interface LogStorage {
  /** Term, vote and commit as last persisted ({0, '', 0} for a new node). */
  initialState(): HardState;
  /** Index of the first entry still held; everything before was compacted. 1 when nothing was. */
  firstIndex(): number;
  /** Index of the last entry held; firstIndex() - 1 when the log is empty. */
  lastIndex(): number;
  /** Term of entry `index` for firstIndex()-1 <= index <= lastIndex() (the compaction point
   *  keeps its term); undefined outside that range. term(0) is 0. */
  term(index: number): number | undefined;
  /** Entries [lo, hi) with firstIndex() <= lo <= hi <= lastIndex()+1. Stops once the total size
   *  exceeds maxBytes, but always returns at least one entry when lo < hi. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The latest `config` entry at or below `index` still held (the configuration of the
   *  compacted prefix is the snapshot's). */
  lastConfig(index: number): Entry | undefined;
  /** The newest snapshot (`noSnapshot` when none); firstIndex() - 1 <= its index, because
   *  the log is only ever compacted up to a snapshot. */
  snapshot(): SnapshotMeta;
}
