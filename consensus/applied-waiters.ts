/** Callers waiting for the state machine to reach a log index (replay at start, a
 *  membership change that was already in effect). */
export class AppliedWaiters {
  private readonly waiters: Array<{ index: number; resolve: () => void; reject: (e: Error) => void }> = [];

  wait(index: number): Promise<void> {
    return new Promise((resolve, reject) => this.waiters.push({ index, resolve, reject }));
  }

  resolveUpTo(applied: number): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i];
      if (w !== undefined && applied >= w.index) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  rejectAll(e: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(e);
  }
}
