/**
 * The most recently written log entries, in memory: what a leader sends to followers that
 * are slightly behind, and what it reads back to build appends, without reading and
 * checksumming them from LMDB again. Bounded in count and bytes; always a contiguous run
 * ending at the log's last entry. These are the very objects that were written, so serving
 * them is as good as reading the disk (which is verified entry by entry at every start).
 */
import type { Entry } from '../core/messages.js';

export class RecentEntries {
  private ents: Entry[] = [];
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  /** The entry at `index` if cached. */
  get(index: number): Entry | undefined {
    const first = this.ents[0]?.index;
    return first === undefined ? undefined : this.ents[index - first];
  }

  /** True when [lo, hi) is entirely cached. */
  covers(lo: number, hi: number): boolean {
    const first = this.ents[0]?.index;
    return first !== undefined && lo >= first && hi <= first + this.ents.length;
  }

  /** After a write of `entries` (which replaces everything from their first index on). */
  written(entries: readonly Entry[]): void {
    const start = entries[0]?.index;
    if (start === undefined || this.maxEntries === 0) return;
    const first = this.ents[0]?.index;
    if (first === undefined || start < first || start > first + this.ents.length) {
      this.clear();
    } else {
      for (const e of this.ents.splice(start - first)) this.bytes -= e.data.byteLength;
    }
    for (const e of entries) {
      this.ents.push(e);
      this.bytes += e.data.byteLength;
    }
    let drop = 0;
    while (this.ents.length - drop > this.maxEntries || (this.bytes > this.maxBytes && this.ents.length - drop > 1)) {
      this.bytes -= this.ents[drop]?.data.byteLength ?? 0;
      drop++;
    }
    if (drop > 0) this.ents.splice(0, drop);
  }

  /** Entries up to `index` were compacted away. */
  dropUpTo(index: number): void {
    const first = this.ents[0]?.index;
    if (first === undefined || index < first) return;
    for (const e of this.ents.splice(0, index - first + 1)) this.bytes -= e.data.byteLength;
  }

  clear(): void {
    this.ents = [];
    this.bytes = 0;
  }
}
