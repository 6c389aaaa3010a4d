/**
 * The few values Raft must keep besides the log: current term, vote and commit index (the
 * hard state, Raft paper Figure 2) and the compaction point. Checksummed like log entries.
 */
import type { Database } from 'lmdb';
import type { HardState } from '../core/messages.js';
import type { CompactionPoint } from './entry-codec.js';
import { decodeCompactionPoint, decodeHardState, encodeCompactionPoint, encodeHardState } from './entry-codec.js';

const HARD_STATE = 'hardState';
const COMPACTION = 'compaction';

export class StableStore {
  constructor(
    private readonly meta: Database<Buffer, string>,
    private readonly where: string,
  ) {}

  hardState(): HardState {
    const buf = this.meta.get(HARD_STATE);
    return buf === undefined ? { term: 0, vote: '', commit: 0 } : decodeHardState(buf, this.where);
  }

  /** In a write transaction. */
  setHardState(hs: HardState): void {
    this.meta.putSync(HARD_STATE, encodeHardState(hs));
  }

  compactionPoint(): CompactionPoint {
    const buf = this.meta.get(COMPACTION);
    return buf === undefined ? { index: 0, term: 0 } : decodeCompactionPoint(buf, this.where);
  }

  /** In a write transaction. */
  setCompactionPoint(p: CompactionPoint): void {
    this.meta.putSync(COMPACTION, encodeCompactionPoint(p));
  }
}
