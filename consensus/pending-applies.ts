/**
 * Callers waiting for their proposal to be applied, keyed by log index. A waiter carries
 * the term its entry was proposed in: if the entry applied at that index has another term,
 * a later leader replaced it and the caller learns that its command was lost.
 */
import { YurtError } from '../structs/errors.js';

export type ApplyOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

interface Waiter {
  term: number;
  resolve: (v: { index: number; result: unknown }) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

export class PendingApplies {
  private readonly waiters = new Map<number, Waiter>();

  get size(): number {
    return this.waiters.size;
  }

  wait(index: number, term: number, timeoutMs: number): Promise<{ index: number; result: unknown }> {
    return new Promise((resolve, reject) => {
      const w: Waiter = { term, resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutMs)) {
        w.timer = setTimeout(() => {
          this.waiters.delete(index);
          // The entry may still commit later; only the caller stops waiting for it.
          reject(new YurtError('timeout', `raft entry ${index} was not committed and applied within ${timeoutMs} ms`, { details: { index } }));
        }, timeoutMs);
      }
      this.waiters.set(index, w);
    });
  }

  /** The entry at `index` was applied with `term`. */
  settle(index: number, term: number, outcome: ApplyOutcome): void {
    const w = this.waiters.get(index);
    if (w === undefined) return;
    this.waiters.delete(index);
    clearTimeout(w.timer);
    if (w.term !== term) {
      w.reject(new YurtError('leadership_lost', `raft entry ${index} was replaced by a newer leader's entry before it committed`, { details: { index } }));
    } else if (outcome.ok) {
      w.resolve({ index, result: outcome.result });
    } else {
      w.reject(outcome.error);
    }
  }

  /** Fails the waiters above `index`: what is committed will still be applied and settle
   *  normally, whoever leads. */
  rejectAbove(index: number, error: () => Error): void {
    for (const [i, w] of this.waiters) {
      if (i <= index) continue;
      clearTimeout(w.timer);
      w.reject(error());
      this.waiters.delete(i);
    }
  }

  /** Fails the waiters at or below `index`: those entries reached this server inside a
   *  snapshot, so whether they were the ones proposed is unknown. */
  rejectUpTo(index: number, error: () => Error): void {
    for (const [i, w] of this.waiters) {
      if (i > index) continue;
      clearTimeout(w.timer);
      w.reject(error());
      this.waiters.delete(i);
    }
  }

  rejectAll(error: () => Error): void {
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(error());
    }
    this.waiters.clear();
  }
}
