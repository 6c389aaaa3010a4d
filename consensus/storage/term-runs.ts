/**
 * The term of every log entry, kept in memory as runs of consecutive entries sharing a term
 * (a term changes only with a new leader, so a log of millions of entries has a handful of
 * runs). The core asks for terms all the time (matching appends, election checks); this
 * answers without reading and checksumming an entry from LMDB.
 */
export class TermRuns {
  /** Sorted by start; run i covers [start_i, start_{i+1}) and the last one up to the log's end. */
  private starts: number[] = [];
  private terms: number[] = [];

  /** Term of `index`, which the caller knows is inside the log. */
  term(index: number): number | undefined {
    let lo = 0;
    let hi = this.starts.length - 1;
    if (hi < 0 || index < (this.starts[0] ?? Infinity)) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? Infinity) <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.terms[lo];
  }

  /** Entries from `index` on were replaced or removed. */
  truncateFrom(index: number): void {
    while (this.starts.length > 0 && (this.starts.at(-1) ?? 0) >= index) {
      this.starts.pop();
      this.terms.pop();
    }
  }

  /** Entries up to `index` were compacted away. */
  dropUpTo(index: number): void {
    let n = 0;
    while (n + 1 < this.starts.length && (this.starts[n + 1] ?? Infinity) <= index + 1) n++;
    this.starts.splice(0, n);
    this.terms.splice(0, n);
    if (this.starts.length > 0 && (this.starts[0] ?? 0) <= index) this.starts[0] = index + 1;
  }

  append(index: number, term: number): void {
    if (this.terms.at(-1) !== term) {
      this.starts.push(index);
      this.terms.push(term);
    }
  }

  clear(): void {
    this.starts = [];
    this.terms = [];
  }
}
