/**
 * The evaluation broker, run by the leader. Ready evaluations wait in one priority queue per
 * scheduler type; a worker dequeues one and must ack or nack it. Delivery is at least once:
 * an unacked evaluation comes back after the nack timeout, and after `deliveryLimit`
 * deliveries it is handed to `onFailed` (the server marks it failed). Only one evaluation per
 * job is out at a time; later ones for the same job wait their turn, so two schedulers never
 * race on one job. Delayed evaluations (WaitUntil) wait on a timer before becoming ready.
 */
import type { Evaluation } from '../../structs/eval.js';

interface Outstanding {
  ev: Evaluation;
  token: string;
  timer: NodeJS.Timeout;
  /** performance.now() when a worker dequeued it. */
  dequeuedAt: number;
}

/**
 * Timings the broker reports, as Nomad's nomad.broker.wait_time and nomad.broker.process_time;
 * seconds, by scheduler type. The agent's telemetry plugs in; nothing depends on them.
 */
export interface EvalBrokerTimings {
  /** An evaluation waited this long ready before a worker dequeued it. */
  waited(type: string, seconds: number): void;
  /** A worker held an evaluation this long before acking or nacking it. */
  processed(type: string, seconds: number): void;
}

export interface EvalBrokerOptions {
  nackTimeoutMs: number;
  deliveryLimit: number;
  now?: () => number;
  newToken: () => string;
  /** Called when an evaluation has been delivered `deliveryLimit` times without an ack. */
  onFailed: (ev: Evaluation) => void;
}

export interface Dequeued {
  ev: Evaluation;
  token: string;
}

const jobKey = (ev: Evaluation): string => `${ev.Namespace}\u0000${ev.JobID}`;

export class EvalBroker {
  private enabled = false;
  private readonly ready = new Map<string, Evaluation[]>();
  private readonly unack = new Map<string, Outstanding>();
  /** Jobs with an evaluation ready or out, and the evaluations queued behind it. */
  private readonly jobBusy = new Map<string, string>();
  private readonly jobWaiting = new Map<string, Evaluation[]>();
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private readonly deliveries = new Map<string, number>();
  private waiters: Array<{ types: string[]; resolve: (d: Dequeued | null) => void; timer: NodeJS.Timeout }> = [];
  /** performance.now() when each ready evaluation became ready, for the wait time. */
  private readonly readySince = new Map<string, number>();
  /** Where timings go (the agent's telemetry); set after construction, null when unwatched. */
  timings: EvalBrokerTimings | null = null;

  constructor(private readonly opts: EvalBrokerOptions) {}

  isEnabled(): boolean {
    return this.enabled;
  }

  /** Turned on when this server becomes leader, off (and emptied) when it stops being one. */
  setEnabled(on: boolean): void {
    this.enabled = on;
    if (!on) this.flush();
  }

  enqueue(ev: Evaluation): void {
    if (!this.enabled) return;
    if (this.unack.has(ev.ID) || this.delayed.has(ev.ID) || this.isReady(ev.ID)) return;
    const now = (this.opts.now ?? Date.now)() * 1e6;
    if (ev.WaitUntil > now) {
      const t = setTimeout(() => {
        this.delayed.delete(ev.ID);
        this.enqueueNow(ev);
      }, Math.ceil((ev.WaitUntil - now) / 1e6));
      t.unref();
      this.delayed.set(ev.ID, t);
      return;
    }
    this.enqueueNow(ev);
  }

  private isReady(id: string): boolean {
    for (const q of this.ready.values()) if (q.some((e) => e.ID === id)) return true;
    for (const q of this.jobWaiting.values()) if (q.some((e) => e.ID === id)) return true;
    return false;
  }

  private enqueueNow(ev: Evaluation): void {
    const key = jobKey(ev);
    const busy = this.jobBusy.get(key);
    if (busy !== undefined && busy !== ev.ID) {
      (this.jobWaiting.get(key) ?? this.jobWaiting.set(key, []).get(key)!).push(ev);
      return;
    }
    this.jobBusy.set(key, ev.ID);
    this.pushReady(ev);
  }

  private pushReady(ev: Evaluation): void {
    const q = this.ready.get(ev.Type) ?? this.ready.set(ev.Type, []).get(ev.Type)!;
    q.push(ev);
    this.readySince.set(ev.ID, performance.now());
    // Highest priority first; FIFO (by creation) within a priority.
    q.sort((a, b) => b.Priority - a.Priority || a.CreateIndex - b.CreateIndex);
    this.serveWaiters();
  }

  /** Wait up to `timeoutMs` for an evaluation of one of `types`. */
  dequeue(types: string[], timeoutMs: number): Promise<Dequeued | null> {
    const d = this.take(types);
    if (d || timeoutMs <= 0) return Promise.resolve(d);
    return new Promise((resolve) => {
      const w = {
        types,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve(null);
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  private serveWaiters(): void {
    for (const w of [...this.waiters]) {
      const d = this.take(w.types);
      if (!d) continue;
      clearTimeout(w.timer);
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(d);
    }
  }

  private take(types: string[]): Dequeued | null {
    if (!this.enabled) return null;
    let pick: { type: string; ev: Evaluation } | null = null;
    for (const t of types) {
      const head = this.ready.get(t)?.[0];
      if (head && (!pick || head.Priority > pick.ev.Priority)) pick = { type: t, ev: head };
    }
    if (!pick) return null;
    this.ready.get(pick.type)!.shift();
    const dequeuedAt = performance.now();
    const since = this.readySince.get(pick.ev.ID);
    this.readySince.delete(pick.ev.ID);
    if (since !== undefined) this.timings?.waited(pick.ev.Type, (dequeuedAt - since) / 1000);
    const token = this.opts.newToken();
    const n = (this.deliveries.get(pick.ev.ID) ?? 0) + 1;
    this.deliveries.set(pick.ev.ID, n);
    const timer = setTimeout(() => this.nack(pick.ev.ID, token), this.opts.nackTimeoutMs);
    timer.unref();
    this.unack.set(pick.ev.ID, { ev: pick.ev, token, timer, dequeuedAt });
    return { ev: pick.ev, token };
  }

  /** The worker finished the evaluation: the next one for its job may go. */
  ack(evalId: string, token: string): boolean {
    const o = this.unack.get(evalId);
    if (!o || o.token !== token) return false;
    clearTimeout(o.timer);
    this.unack.delete(evalId);
    this.timings?.processed(o.ev.Type, (performance.now() - o.dequeuedAt) / 1000);
    this.deliveries.delete(evalId);
    this.releaseJob(o.ev);
    return true;
  }

  /** The worker gave up on it (or timed out): deliver again, or fail it past the limit. */
  nack(evalId: string, token: string): boolean {
    const o = this.unack.get(evalId);
    if (!o || o.token !== token) return false;
    clearTimeout(o.timer);
    this.unack.delete(evalId);
    this.timings?.processed(o.ev.Type, (performance.now() - o.dequeuedAt) / 1000);
    if ((this.deliveries.get(evalId) ?? 0) >= this.opts.deliveryLimit) {
      this.deliveries.delete(evalId);
      this.releaseJob(o.ev);
      this.opts.onFailed(o.ev);
      return true;
    }
    this.pushReady(o.ev);
    return true;
  }

  /**
   * The evaluation never reached its worker (the connection it was to go out on had closed):
   * back to the queue at once, and the delivery does not count towards the limit.
   */
  undeliver(evalId: string, token: string): boolean {
    const o = this.unack.get(evalId);
    if (!o || o.token !== token) return false;
    clearTimeout(o.timer);
    this.unack.delete(evalId);
    const n = (this.deliveries.get(evalId) ?? 1) - 1;
    if (n <= 0) this.deliveries.delete(evalId);
    else this.deliveries.set(evalId, n);
    this.pushReady(o.ev);
    return true;
  }

  /** Reset the nack timer of an evaluation still being worked on. */
  touch(evalId: string, token: string): boolean {
    const o = this.unack.get(evalId);
    if (!o || o.token !== token) return false;
    o.timer.refresh();
    return true;
  }

  private releaseJob(ev: Evaluation): void {
    const key = jobKey(ev);
    if (this.jobBusy.get(key) !== ev.ID) return;
    this.jobBusy.delete(key);
    const waiting = this.jobWaiting.get(key);
    const next = waiting?.shift();
    if (waiting && waiting.length === 0) this.jobWaiting.delete(key);
    if (next) this.enqueueNow(next);
  }

  stats(): { ready: number; unacked: number; waiting: number; delayed: number } {
    let ready = 0;
    for (const q of this.ready.values()) ready += q.length;
    let waiting = 0;
    for (const q of this.jobWaiting.values()) waiting += q.length;
    return { ready, unacked: this.unack.size, waiting, delayed: this.delayed.size };
  }

  private flush(): void {
    for (const o of this.unack.values()) clearTimeout(o.timer);
    for (const t of this.delayed.values()) clearTimeout(t);
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    this.waiters = [];
    this.ready.clear();
    this.readySince.clear();
    this.unack.clear();
    this.jobBusy.clear();
    this.jobWaiting.clear();
    this.delayed.clear();
    this.deliveries.clear();
  }
}
