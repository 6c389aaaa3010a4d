/**
 * A linearizability checker for key/value histories, after Porcupine (Athalye, 2017), which
 * implements the algorithm of Wing & Gong as improved by Lowe ("Testing for
 * linearizability", 2016): depth-first search over the order in which operations take
 * effect, each inside its [call, return] window, pruned by a cache of (set of operations
 * linearized, model state) pairs already explored. A key/value store is P-compositional
 * (Herlihy & Wing): the history is linearizable iff each key's sub-history is, so keys are
 * checked one at a time.
 *
 * Operations whose outcome is unknown (a write that timed out or lost its leader) have
 * `returnAt: Infinity`: they may take effect at any time after their call, or never (for a
 * register, "never" is indistinguishable from "after everything else"). Reads without an
 * answer tell nothing and are left out by the caller.
 */

export interface KvOperation {
  client: number;
  key: string;
  kind: 'put' | 'get';
  /** put: the value written; get: the value read (null: the key was never written). */
  value: string | null;
  callAt: number;
  /** Infinity when the outcome is unknown. */
  returnAt: number;
}

export interface LinearizabilityResult {
  ok: boolean;
  /** Keys whose history is not linearizable. */
  failedKeys: string[];
  /** For a failed key: the operations of the longest prefix that could be linearized, and
   *  the operations it got stuck on, to print. */
  explanation: string;
  operations: number;
}

interface Event {
  op: number;
  isCall: boolean;
  time: number;
  /** Doubly linked list of pending events. */
  prev: Event | null;
  next: Event | null;
  /** For a call: its return event. */
  match: Event | null;
}

/** Checks every key; stops exploring one after `budgetSteps` search steps (then it counts
 *  as failed, with an explanation saying so). */
export function checkLinearizable(history: readonly KvOperation[], budgetSteps = 5_000_000): LinearizabilityResult {
  const byKey = new Map<string, KvOperation[]>();
  for (const op of history) {
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [op]);
    else list.push(op);
  }
  const failedKeys: string[] = [];
  let explanation = '';
  for (const [key, ops] of byKey) {
    const r = checkRegister(ops, budgetSteps);
    if (!r.ok) {
      failedKeys.push(key);
      if (explanation === '') explanation = `key ${JSON.stringify(key)}: ${r.why}`;
    }
  }
  return { ok: failedKeys.length === 0, failedKeys, explanation, operations: history.length };
}

/** One register (one key). Model: state is the last value written; a read must return it. */
function checkRegister(all: readonly KvOperation[], budget: number): { ok: true } | { ok: false; why: string } {
  // A write with an unknown outcome whose value no read ever returned can always be placed
  // after everything else (or never), where it changes nothing: leaving it out keeps the
  // verdict and removes the search's worst branching (faults make many such writes).
  const observed = new Set(all.filter((o) => o.kind === 'get').map((o) => o.value));
  const ops = all.filter((o) => !(o.kind === 'put' && !Number.isFinite(o.returnAt) && !observed.has(o.value)));
  // Calls sort before returns at the same instant: overlapping is the permissive reading.
  const events: Event[] = [];
  ops.forEach((op, i) => {
    const call: Event = { op: i, isCall: true, time: op.callAt, prev: null, next: null, match: null };
    const ret: Event = { op: i, isCall: false, time: op.returnAt, prev: null, next: null, match: null };
    call.match = ret;
    events.push(call, ret);
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Event = { op: -1, isCall: false, time: -Infinity, prev: null, next: null, match: null };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const words = Math.ceil(ops.length / 32);
  const linearized = new Uint32Array(words);
  const cache = new Set<string>();
  const calls: Array<{ event: Event; state: string | null }> = [];
  let state: string | null = null;
  let entry: Event | null = head.next;
  let steps = 0;
  let deepest = 0;
  let stuckAt: Event | null = null;

  const lift = (e: Event) => {
    // Take the call and its return out of the list: that operation has taken effect.
    e.prev!.next = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    const r = e.match!;
    r.prev!.next = r.next;
    if (r.next !== null) r.next.prev = r.prev;
  };
  const unlift = (e: Event) => {
    const r = e.match!;
    r.prev!.next = r;
    if (r.next !== null) r.next.prev = r;
    e.prev!.next = e;
    if (e.next !== null) e.next.prev = e;
  };

  while (head.next !== null) {
    if (++steps > budget) return { ok: false, why: `gave up after ${budget} search steps (history too concurrent to decide)` };
    if (entry === null) return { ok: false, why: 'internal: ran past the end of the history' };
    if (entry.isCall) {
      const op = ops[entry.op]!;
      const ok = op.kind === 'put' || op.value === state;
      if (ok) {
        const next: string | null = op.kind === 'put' ? op.value : state;
        linearized[entry.op >> 5]! |= 1 << (entry.op & 31);
        const key = `${linearized.join(',')}|${next ?? '\u0000'}`;
        if (!cache.has(key)) {
          cache.add(key);
          calls.push({ event: entry, state });
          state = next;
          lift(entry);
          if (calls.length > deepest) deepest = calls.length;
          entry = head.next;
          continue;
        }
        linearized[entry.op >> 5]! &= ~(1 << (entry.op & 31));
      }
      entry = entry.next;
    } else {
      // A return whose operation has not taken effect yet: this order is impossible.
      if (stuckAt === null || calls.length >= deepest) stuckAt = entry;
      const top = calls.pop();
      if (top === undefined) {
        const o = stuckAt === null ? undefined : ops[stuckAt.op];
        return {
          ok: false,
          why: `no order of the ${ops.length} operations explains them; stuck at ${o === undefined ? '?' : describe(o)} after linearizing ${deepest}`,
        };
      }
      entry = top.event;
      state = top.state;
      linearized[entry.op >> 5]! &= ~(1 << (entry.op & 31));
      unlift(entry);
      entry = entry.next;
    }
  }
  return { ok: true };
}

function describe(op: KvOperation): string {
  const end = Number.isFinite(op.returnAt) ? op.returnAt.toFixed(1) : '?';
  return `client ${op.client} ${op.kind}(${op.key}) ${op.kind === 'put' ? '<-' : '->'} ${JSON.stringify(op.value)} [${op.callAt.toFixed(1)}, ${end}]`;
}
