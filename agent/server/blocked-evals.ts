/**
 * Blocked evaluations: evaluations that could not place everything wait here (on the leader)
 * until capacity may have appeared — a node became ready or eligible, or allocations freed
 * resources — and are then handed back to the broker. One blocked evaluation per job: a newer
 * one supersedes (cancels) the older.
 */
import type { Evaluation } from '../../structs/eval.js';

export class BlockedEvals {
  private readonly byJob = new Map<string, Evaluation>();
  private enabled = false;

  constructor(
    private readonly enqueue: (ev: Evaluation) => void,
    private readonly cancel: (ev: Evaluation) => void,
  ) {}

  setEnabled(on: boolean): void {
    this.enabled = on;
    if (!on) this.byJob.clear();
  }

  block(ev: Evaluation): void {
    if (!this.enabled) return;
    const key = `${ev.Namespace}\u0000${ev.JobID}`;
    const prev = this.byJob.get(key);
    if (prev && prev.ID !== ev.ID) {
      // Keep the newer one: it was planned against fresher state.
      if (prev.CreateIndex > ev.CreateIndex) {
        this.cancel(ev);
        return;
      }
      this.cancel(prev);
    }
    this.byJob.set(key, ev);
  }

  /** A job's new evaluation will see the same capacity, so its blocked one is no longer needed. */
  untrack(namespace: string, jobId: string): Evaluation | undefined {
    const key = `${namespace}\u0000${jobId}`;
    const prev = this.byJob.get(key);
    this.byJob.delete(key);
    return prev;
  }

  /** Capacity changed: give every blocked evaluation another try. */
  unblockAll(): void {
    if (!this.enabled) return;
    const evals = [...this.byJob.values()];
    this.byJob.clear();
    for (const ev of evals) this.enqueue(ev);
  }

  size(): number {
    return this.byJob.size;
  }
}
