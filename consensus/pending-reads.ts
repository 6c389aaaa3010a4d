/**
 * Linearizable reads in flight (ReadIndex, thesis §6.4), keyed by the ctx the core echoes
 * in its ReadState. A read first waits for the leader to confirm its index, then for the
 * local state machine to reach that index.
 */
import type { ReadState } from './core/messages.js';
import { YurtError } from '../structs/errors.js';

interface PendingRead {
  /** The confirmed read index; null until the leader confirms it. */
  index: number | null;
  resolve: (index: number) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class PendingReads {
  private readonly reads = new Map<number, PendingRead>();
  private seq = 0;

  get size(): number {
    return this.reads.size;
  }

  /** A ctx for the next read request to the core. */
  nextCtx(): number {
    return ++this.seq;
  }

  /** Resolves with the read index once it is confirmed and applied (see serve). */
  wait(ctx: number, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(ctx);
        reject(new YurtError('timeout', `linearizable read not confirmed within ${timeoutMs} ms`));
      }, timeoutMs);
      this.reads.set(ctx, { index: null, resolve, reject, timer });
    });
  }

  /** The core's answers: a confirmed index waits for the state machine; a refusal fails the read. */
  confirm(states: readonly ReadState[]): void {
    for (const rs of states) {
      const r = this.reads.get(rs.ctx);
      if (r === undefined || r.index !== null) continue;
      if (rs.ok) {
        r.index = rs.index;
      } else {
        this.reads.delete(rs.ctx);
        clearTimeout(r.timer);
        r.reject(new YurtError('leadership_lost', 'the leader could not confirm the read; retry'));
      }
    }
  }

  /** Reads whose index the state machine has reached are answered; returns how many. */
  serve(applied: number): number {
    let served = 0;
    for (const [ctx, r] of this.reads) {
      if (r.index === null || applied < r.index) continue;
      this.reads.delete(ctx);
      clearTimeout(r.timer);
      served++;
      r.resolve(r.index);
    }
    return served;
  }

  /** Reads forwarded to (or confirmed by) a leader that is gone will never be answered. */
  rejectUnconfirmed(error: () => Error): void {
    this.rejectWhere((r) => r.index === null, error);
  }

  rejectAll(error: () => Error): void {
    this.rejectWhere(() => true, error);
  }

  private rejectWhere(which: (r: PendingRead) => boolean, error: () => Error): void {
    for (const [ctx, r] of this.reads) {
      if (!which(r)) continue;
      this.reads.delete(ctx);
      clearTimeout(r.timer);
      r.reject(error());
    }
  }
}
