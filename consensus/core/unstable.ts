/**
 * Entries appended in memory that the shell has not yet reported durable. They sit at the
 * tail of the log, from `offset` on; anything the storage holds at or after `offset` is
 * stale (about to be overwritten) and must not be read.
 */
import type { Entry } from './messages.js';

export class Unstable {
  entries: Entry[] = [];

  constructor(public offset: number) {}

  lastIndex(): number | undefined {
    return this.entries.length === 0 ? undefined : this.offset + this.entries.length - 1;
  }

  term(index: number): number | undefined {
    return index < this.offset ? undefined : this.entries[index - this.offset]?.term;
  }

  /** The shell made entries up to (index, term) durable. A concurrent truncation may have
   *  replaced that entry meanwhile; then nothing is released and the replacement is
   *  persisted by the next Ready. Returns whether anything was released. */
  stableTo(index: number, term: number): boolean {
    if (this.term(index) !== term) return false;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    return true;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index - 1;
    if (after === this.offset + this.entries.length - 1) {
      this.entries.push(...ents);
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
