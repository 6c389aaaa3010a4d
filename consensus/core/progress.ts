/**
 * The leader's view of one follower's log (etcd's Progress): `match` is known to agree with
 * the leader, `next` is what to send next. A follower is probed one append at a time until
 * its match point is found, then fed optimistically (replicate) within a window of
 * in-flight appends so a slow follower cannot make the leader buffer without bound.
 */

/**
 * probe: match point unknown, one append in flight at a time.
 * replicate: appends are pipelined, up to `maxInflight` unacknowledged.
 * snapshot: the entries it needs were compacted; a snapshot is on its way and it gets no
 * appends until it acknowledges one (or the attempt times out or is reported failed).
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** Last indexes of appends sent but not acknowledged, oldest first. */
export class Inflights {
  private readonly sent: number[] = [];

  constructor(readonly capacity: number) {}

  add(lastIndex: number): void {
    this.sent.push(lastIndex);
  }

  /** An ack up to `index` releases every append ending at or below it. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.sent.length && (this.sent[n] ?? Infinity) <= index) n++;
    this.sent.splice(0, n);
  }

  freeFirstOne(): void {
    this.sent.shift();
  }

  full(): boolean {
    return this.sent.length >= this.capacity;
  }

  count(): number {
    return this.sent.length;
  }

  reset(): void {
    this.sent.length = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append is outstanding; cleared by its answer or a heartbeat reply. */
  probeSent = false;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** In snapshot state: index of the snapshot sent, and leader ticks since. */
  pendingSnapshot = 0;
  snapshotElapsed = 0;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  becomeProbe(): void {
    // Leaving snapshot state after the snapshot was acknowledged: resume right after it.
    this.next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.inflights.reset();
    this.pendingSnapshot = 0;
  }

  /** The snapshot never arrived (send failed or timed out): probe again from the match. */
  snapshotFailed(): void {
    this.pendingSnapshot = 0;
    this.becomeProbe();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.probeSent = false;
    this.inflights.reset();
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = 'snapshot';
    this.probeSent = false;
    this.inflights.reset();
    this.pendingSnapshot = snapshotIndex;
    this.snapshotElapsed = 0;
  }

  /** An ack up to `n`; returns whether it taught us anything new. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** Sent entries up to `n` in replicate state: assume they will be accepted. */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * The follower refused the append whose prevIndex was `rejected`, hinting that nothing
   * above `matchHint` can match. Returns false for a stale refusal (one answering an append
   * sent before the current guess), which must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
