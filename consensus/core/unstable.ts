/**
 * What the core holds that the shell has not yet reported durable: entries at the tail of
 * the log, from `offset` on, and possibly a snapshot received from the leader that replaces
 * everything up to its index. Anything the storage holds at or after `offset` (or at all,
 * below a pending snapshot) is stale and must not be read.
 */
import type { Entry, SnapshotMeta } from './messages.js';

export class Unstable {
  entries: Entry[] = [];
  snapshot: { meta: SnapshotMeta; data: Uint8Array } | undefined;

  constructor(public offset: number) {}

  lastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.meta.index;
  }

  /** First index this view answers for: just after a pending snapshot. */
  firstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.meta.index + 1;
  }

  term(index: number): number | undefined {
    if (index < this.offset) {
      const s = this.snapshot?.meta;
      return s !== undefined && s.index === index ? s.term : undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  /** The shell made entries up to (index, term) durable. A concurrent truncation may have
   *  replaced that entry meanwhile; then nothing is released and the replacement is
   *  persisted by the next Ready. Returns whether anything was released. */
  stableTo(index: number, term: number): boolean {
    if (index < this.offset || this.entries[index - this.offset]?.term !== term) return false;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    return true;
  }

  /** The shell installed the snapshot at `index`. */
  stableSnapTo(index: number): void {
    if (this.snapshot?.meta.index === index) this.snapshot = undefined;
  }

  restore(meta: SnapshotMeta, data: Uint8Array): void {
    this.offset = meta.index + 1;
    this.entries = [];
    this.snapshot = { meta, data };
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index - 1;
    if (after === this.offset + this.entries.length - 1) {
      for (const e of ents) this.entries.push(e);
    } else if (after < this.offset) {
      // The new entries replace part of what storage holds: the next write starts there.
      this.offset = after + 1;
      this.entries = [...ents];
    } else {
      this.entries = this.entries.slice(0, after + 1 - this.offset).concat(ents);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
