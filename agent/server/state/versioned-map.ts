/**
 * A map that remembers, per key, the values recent readers may still ask for. Every commit of
 * the state store has a sequence number; a reader pinned at sequence S sees, for each key, the
 * newest value written at or before S. Old values are dropped as soon as no open reader can
 * see them (`horizon` is the oldest sequence still pinned), so memory stays close to one value
 * per key while schedulers keep their consistent snapshots.
 */

interface Version<V> {
  readonly seq: number;
  /** `undefined` marks a deletion. */
  readonly value: V | undefined;
  prev: Version<V> | undefined;
}

/** Sequence number that sees every committed write. */
export const LATEST = Number.POSITIVE_INFINITY;

export class VersionedMap<V> {
  private readonly heads = new Map<string, Version<V>>();
  /** Deletions kept only because an older reader may look: removed once the horizon passes them. */
  private tombstones: Array<{ key: string; seq: number }> = [];

  get(key: string, at: number): V | undefined {
    let v = this.heads.get(key);
    while (v !== undefined && v.seq > at) v = v.prev;
    return v?.value;
  }

  /** Record `value` (or a deletion) for `key` at commit `seq`; readers older than `horizon` no longer exist. */
  set(key: string, value: V | undefined, seq: number, horizon: number): void {
    const prev = this.heads.get(key);
    if (value === undefined && prev === undefined) return;
    const v: Version<V> = { seq, value, prev };
    trim(v, horizon);
    if (value === undefined && v.prev === undefined) {
      this.heads.delete(key);
      return;
    }
    this.heads.set(key, v);
    if (value === undefined) this.tombstones.push({ key, seq });
  }

  /** Forget deletions no reader can see any more. */
  sweep(horizon: number): void {
    if (this.tombstones.length === 0) return;
    const keep: Array<{ key: string; seq: number }> = [];
    for (const t of this.tombstones) {
      const head = this.heads.get(t.key);
      if (head === undefined || head.seq !== t.seq) continue;
      if (t.seq <= horizon) this.heads.delete(t.key);
      else keep.push(t);
    }
    this.tombstones = keep;
  }

  /** Every key with a value visible at `at` (in no particular order). */
  *entries(at: number): IterableIterator<[string, V]> {
    for (const key of this.heads.keys()) {
      const value = this.get(key, at);
      if (value !== undefined) yield [key, value];
    }
  }
}

/** Keep versions down to the newest one the oldest reader sees; older ones are unreachable. */
function trim<V>(v: Version<V>, horizon: number): void {
  let c = v;
  while (c.seq > horizon && c.prev !== undefined) c = c.prev;
  c.prev = undefined;
}
