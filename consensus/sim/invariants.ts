/**
 * The safety properties of the Raft paper (Figure 3), checked by the simulator after every
 * event. Each check keeps a small global record of what has been observed so far, so a
 * violation is caught at the step that causes it, not at the end of a run.
 *
 * - Election Safety: at most one leader per term.
 * - Log Matching: two logs holding an entry with the same index and term are identical up
 *   to it. Checked through the equivalent local rule: an (index, term) pair, wherever and
 *   whenever it is seen, always has the same content and the same predecessor term.
 * - Leader Completeness: a leader holds every entry committed in an earlier term.
 * - State Machine Safety: no two servers apply different entries at one index; a state
 *   restored from a snapshot equals what applying the log up to its index gives.
 * - Linearizable reads: a read index covers every write acknowledged before the read began.
 */
import type { Entry } from '../core/messages.js';

export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

/** The running digest of a state machine that applied `key` after `prev`. */
export function nextDigest(prev: number, key: string): number {
  let h = prev ^ 0x9e3779b9;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

const decoder = new TextDecoder();
const keys = new WeakMap<Uint8Array, string>();

/** What an entry says, for comparing entries held by different servers. */
export function entryKey(e: Entry): string {
  let text = keys.get(e.data);
  if (text === undefined) {
    text = decoder.decode(e.data);
    keys.set(e.data, text);
  }
  return `${e.type}:${text}`;
}

export interface LogView {
  /** Index and term of the entry before the first one held (the compaction point). */
  prevIndex: number;
  prevTerm: number;
  entries: readonly Entry[];
}

export class Invariants {
  private readonly leaderOfTerm = new Map<number, string>();
  /** `${index}:${term}` → content and predecessor term. */
  private readonly entryIdentity = new Map<string, { key: string; prevTerm: number }>();
  /** Applied (so committed) entries: index → term, content, digest after it, and an upper
   *  bound on the term in which it was committed (the highest term alive when first seen). */
  private readonly committed = new Map<number, { term: number; key: string; digest: number; commitTermBound: number }>();
  /** Entries some server has claimed committed (its commit index covers them). */
  private readonly claimed = new Map<number, string>();
  private maxAckedWrite = 0;
  checks = 0;

  electionSafety(id: string, term: number): void {
    const prev = this.leaderOfTerm.get(term);
    if (prev !== undefined && prev !== id) this.fail(`Election Safety: two leaders in term ${term}: ${prev} and ${id}`);
    this.leaderOfTerm.set(term, id);
  }

  logMatching(id: string, log: LogView): void {
    this.checks++;
    let prevTerm = log.prevTerm;
    let expected = log.prevIndex + 1;
    for (const e of log.entries) {
      if (e.index !== expected) this.fail(`${id}: log is not contiguous at ${expected} (found ${e.index})`);
      if (e.term < prevTerm) this.fail(`${id}: term goes down at ${e.index} (${prevTerm} -> ${e.term})`);
      const k = `${e.index}:${e.term}`;
      const key = entryKey(e);
      const seen = this.entryIdentity.get(k);
      if (seen === undefined) {
        this.entryIdentity.set(k, { key, prevTerm });
      } else if (seen.key !== key || seen.prevTerm !== prevTerm) {
        this.fail(
          `Log Matching: ${id} holds (${k}) as ${key} after term ${prevTerm}, elsewhere it is ${seen.key} after term ${seen.prevTerm}`,
        );
      }
      prevTerm = e.term;
      expected++;
    }
  }

  /** Every entry at or below a server's commit index is committed, so no two servers may
   *  ever hold different entries under their commit indexes. */
  commitClaims(id: string, commit: number, firstIndex: number, entries: readonly Entry[]): void {
    const offset = firstIndex;
    for (let i = Math.max(firstIndex, commit - 64); i <= commit; i++) {
      const e = entries[i - offset];
      if (e === undefined) continue;
      const k = `${e.term}:${entryKey(e)}`;
      const seen = this.claimed.get(i);
      if (seen === undefined) this.claimed.set(i, k);
      else if (seen !== k) this.fail(`Commit: ${id} considers ${i} committed as ${k}, another server as ${seen}`);
    }
  }

  /** On election: the new leader's log must hold every entry committed before its term. */
  leaderCompleteness(id: string, term: number, firstIndex: number, termAt: (index: number) => number | undefined): void {
    for (const [index, c] of this.committed) {
      if (c.commitTermBound >= term || index < firstIndex) continue; // covered by its snapshot
      const t = termAt(index);
      if (t !== c.term) {
        this.fail(`Leader Completeness: ${id}, leader of term ${term}, has ${t ?? 'nothing'} at ${index}, committed with term ${c.term}`);
      }
    }
  }

  /** `id` applied `e` after a state with digest `prevDigest`; returns the new digest. */
  applied(id: string, e: Entry, prevDigest: number, maxTermAlive: number): number {
    const key = entryKey(e);
    const digest = nextDigest(prevDigest, `${e.index}:${e.term}:${key}`);
    const c = this.committed.get(e.index);
    if (c === undefined) {
      this.committed.set(e.index, { term: e.term, key, digest, commitTermBound: maxTermAlive });
    } else if (c.term !== e.term || c.key !== key) {
      this.fail(`State Machine Safety: ${id} applied ${e.index}:${e.term}:${key}, another server applied ${e.index}:${c.term}:${c.key}`);
    } else if (c.digest !== digest) {
      this.fail(`State Machine Safety: ${id}'s state after ${e.index} differs from another server's (digest ${digest} vs ${c.digest})`);
    }
    return digest;
  }

  /** `id` restored a state machine snapshot of `index`. */
  restored(id: string, index: number, digest: number): void {
    const c = this.committed.get(index);
    if (c !== undefined && c.digest !== digest) {
      this.fail(`State Machine Safety: ${id} restored a snapshot at ${index} that differs from the applied log (digest ${digest} vs ${c.digest})`);
    }
  }

  committedEntry(index: number): { term: number; key: string } | undefined {
    return this.committed.get(index);
  }

  writeAcknowledged(index: number): void {
    if (index > this.maxAckedWrite) this.maxAckedWrite = index;
  }

  /** Recorded when a read begins: the read index must reach this. */
  readFloor(): number {
    return this.maxAckedWrite;
  }

  readServed(id: string, ctx: number, index: number, floor: number): void {
    if (index < floor) {
      this.fail(`Linearizability: ${id} served read ${ctx} at index ${index}, but a write at ${floor} was acknowledged before the read began`);
    }
  }

  private fail(message: string): never {
    throw new InvariantViolation(message);
  }
}
