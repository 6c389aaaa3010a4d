/**
 * An in-memory `LogStorage` for driving cores without a disk: core tests and the
 * deterministic simulator. `persist` and `installSnapshot` play the shell's part of a Ready;
 * whatever it holds is what "survives a crash" of a simulated node.
 */
import type { LogStorage } from './log-storage.js';
import type { Entry, HardState, SnapshotMeta } from './messages.js';
import { entrySize, noSnapshot } from './messages.js';

export class MemoryStorage implements LogStorage {
  private hardState: HardState = { term: 0, vote: '', commit: 0 };
  /** entries[0] is the compaction point: its index and term only. */
  private ents: Entry[] = [{ index: 0, term: 0, type: 'noop', data: new Uint8Array(0) }];
  private snap: SnapshotMeta = noSnapshot;
  private snapData: Uint8Array = new Uint8Array(0);

  initialState(): HardState {
    return { ...this.hardState };
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  term(index: number): number | undefined {
    return index < this.offset() ? undefined : this.ents[index - this.offset()]?.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex() || hi > this.lastIndex() + 1) {
      throw new Error(`entries [${lo}, ${hi}) outside [${this.firstIndex()}, ${this.lastIndex() + 1})`);
    }
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.ents[i - this.offset()];
      if (e === undefined) break;
      size += entrySize(e);
      if (out.length > 0 && size > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  lastConfig(index: number): Entry | undefined {
    for (let i = Math.min(index, this.lastIndex()); i >= this.firstIndex(); i--) {
      const e = this.ents[i - this.offset()];
      if (e?.type === 'config') return e;
    }
    return undefined;
  }

  snapshot(): SnapshotMeta {
    return this.snap;
  }

  snapshotData(): Uint8Array {
    return this.snapData;
  }

  /** Every entry held, for invariant checks. */
  allEntries(): readonly Entry[] {
    return this.ents.slice(1);
  }

  /** What the shell does with a Ready's hardState and entries. */
  persist(hardState: HardState | undefined, entries: readonly Entry[]): void {
    if (hardState !== undefined) this.hardState = { ...hardState };
    const first = entries[0];
    if (first === undefined) return;
    if (first.index > this.lastIndex() + 1) throw new Error(`gap: appending ${first.index} after ${this.lastIndex()}`);
    if (first.index <= this.offset()) throw new Error(`appending ${first.index} at or below the compaction point`);
    // A write at index i replaces everything from i on: it is a truncation of a conflicting suffix.
    this.ents = this.ents.slice(0, first.index - this.offset()).concat(entries);
  }

  /** Records a snapshot the local state machine took, then discards the log up to
   *  `compactTo` (at most the snapshot's index; less keeps trailing entries for followers). */
  saveSnapshot(meta: SnapshotMeta, data: Uint8Array, compactTo = meta.index): void {
    if (meta.index < this.snap.index) throw new Error(`snapshot ${meta.index} is older than the one held (${this.snap.index})`);
    if (compactTo > meta.index) throw new Error(`cannot compact to ${compactTo} beyond the snapshot at ${meta.index}`);
    this.snap = meta;
    this.snapData = data;
    this.compact(compactTo);
  }

  /** A snapshot from the leader replaces the whole log (Ready.snapshot). */
  installSnapshot(meta: SnapshotMeta, data: Uint8Array): void {
    this.snap = meta;
    this.snapData = data;
    this.ents = [{ index: meta.index, term: meta.term, type: 'noop', data: new Uint8Array(0) }];
    if (this.hardState.commit < meta.index) this.hardState = { ...this.hardState, commit: meta.index };
  }

  /** Discards entries up to `upTo`; only ever up to a snapshot (see saveSnapshot). */
  private compact(upTo: number): void {
    if (upTo <= this.offset()) return;
    if (upTo > this.lastIndex()) throw new Error(`compact(${upTo}) beyond last index ${this.lastIndex()}`);
    const point = this.ents[upTo - this.offset()];
    if (point === undefined) throw new Error(`no entry ${upTo}`);
    this.ents = [{ index: upTo, term: point.term, type: 'noop', data: new Uint8Array(0) }, ...this.ents.slice(upTo - this.offset() + 1)];
  }

  private offset(): number {
    return this.ents[0]?.index ?? 0;
  }
}
