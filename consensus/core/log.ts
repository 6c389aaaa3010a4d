/**
 * The log as the core reasons about it: durable entries in `LogStorage` followed by
 * `Unstable` ones (or a pending snapshot that replaces the durable part), plus the commit
 * and applied indexes. Implements the log-matching rules of the Raft paper (§5.3) and the
 * conflict search used for fast backtracking.
 */
import { YurtError } from '../../structs/errors.js';
import type { LogStorage } from './log-storage.js';
import type { Entry, SnapshotMeta } from './messages.js';
import { entrySize } from './messages.js';
import { Unstable } from './unstable.js';

export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  applied: number;

  constructor(
    readonly storage: LogStorage,
    committed: number,
    applied: number,
  ) {
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = committed;
    this.applied = applied;
  }

  firstIndex(): number {
    return this.unstable.firstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.lastIndex() ?? this.storage.lastIndex();
  }

  /** The highest index known durable: storage's tail, unless unstable entries or a pending
   *  snapshot replace it. */
  stableIndex(): number {
    if (this.unstable.snapshot !== undefined) return 0;
    return this.unstable.entries.length > 0 ? this.unstable.offset - 1 : this.storage.lastIndex();
  }

  /** Term of entry `index`; undefined when compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index > this.lastIndex()) return undefined;
    if (index >= this.unstable.offset || this.unstable.snapshot !== undefined) return this.unstable.term(index);
    return this.storage.term(index);
  }

  /** The snapshot a lagging follower gets: the pending one, or storage's newest. */
  snapshot(): SnapshotMeta {
    return this.unstable.snapshot?.meta ?? this.storage.snapshot();
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    if (t === undefined) throw new YurtError('internal', `raft log has no term for its last index ${this.lastIndex()}`);
    return t;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Appends entries that already carry index and term; returns the new last index. */
  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    if (first.index - 1 < this.committed) {
      // Overwriting a committed entry would break Leader Completeness (§5.4); it means a
      // protocol violation or a damaged store, never a normal condition.
      throw new YurtError('internal', `refusing to overwrite committed entry ${first.index} (commit ${this.committed})`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The follower's side of AppendEntries (§5.3): if the log holds (prevIndex, prevTerm),
   * drop conflicting entries, append the new ones, advance the commit index. Returns the
   * index of the last new entry (what the leader may count as matched), or undefined when
   * the log does not match at prevIndex.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) this.append(ents.slice(conflict - (prevIndex + 1)));
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** First index among `ents` whose term differs from ours (or that we lack); 0 if none. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term. A rejected append
   * for (prevIndex, prevTerm) cannot match anywhere above this point, so both sides jump
   * straight to it (etcd's findConflictByTerm; the optimization sketched in §5.3).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (;;) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 }; // compacted: no term to offer
      if (t <= term) return { index: i, term: t };
      i--;
    }
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new YurtError('internal', `commit index ${index} is beyond the last log index ${this.lastIndex()}`);
    }
    this.committed = index;
  }

  /** Leader commit rule: only an entry of the current term is committed by counting
   *  replicas; earlier ones follow it (§5.4.2, Figure 8). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** Entries [lo, hi) from storage and the unstable tail; undefined if lo was compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined;
    hi = Math.min(hi, this.lastIndex() + 1);
    if (lo >= hi) return [];
    let out: Entry[] = [];
    if (lo < this.unstable.offset) {
      out = this.storage.entries(lo, Math.min(hi, this.unstable.offset), maxBytes);
      // Storage stopped early for size: do not add unstable entries past the gap.
      if (out.length < Math.min(hi, this.unstable.offset) - lo) return out;
    }
    if (hi > this.unstable.offset) {
      let size = out.reduce((n, e) => n + entrySize(e), 0);
      for (const e of this.unstable.slice(Math.max(lo, this.unstable.offset), hi)) {
        size += entrySize(e);
        if (out.length > 0 && size > maxBytes) break;
        out.push(e);
      }
    }
    return out;
  }

  hasNextCommittedEntries(): boolean {
    // Nothing after a pending snapshot can be applied before the snapshot itself.
    return this.unstable.snapshot === undefined && this.committed > this.applied;
  }

  nextCommittedEntries(maxBytes: number): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const ents = this.slice(this.applied + 1, this.committed + 1, maxBytes);
    if (ents === undefined) {
      throw new YurtError('internal', `committed entries from ${this.applied + 1} were compacted before being applied`);
    }
    return ents;
  }

  appliedTo(index: number): void {
    if (index > this.committed || index < this.applied) {
      throw new YurtError('internal', `applied index ${index} outside [${this.applied}, ${this.committed}]`);
    }
    this.applied = index;
  }

  stableTo(index: number, term: number): boolean {
    return this.unstable.stableTo(index, term);
  }

  /** Replaces the whole log by a snapshot from the leader (§7): everything it covers is
   *  committed; entries after it arrive by appends. */
  restore(meta: SnapshotMeta, data: Uint8Array): void {
    this.committed = meta.index;
    this.unstable.restore(meta, data);
  }

  /** The shell installed the snapshot at `index` and restored the state machine from it. */
  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
    if (index > this.applied) this.applied = index;
  }

  unstableEntries(): Entry[] {
    return [...this.unstable.entries];
  }
}
