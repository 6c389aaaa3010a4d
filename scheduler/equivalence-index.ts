/**
 * Nodes that would score identically, grouped. When every node must be scored (spreads,
 * affinities) and a node's score depends only on things a key can name (its computed class,
 * capacity, usage, how many of the group's allocations it holds, its spread values), scoring
 * one node per key is the same as scoring them all: the best of a group is its member first
 * in the shuffled order. A placement moves its node to the group of its new key, so each
 * placement costs O(groups + log n) instead of O(nodes).
 */

interface Group {
  /** Positions in the shuffled order, a binary min-heap; entries of nodes that moved on are dropped lazily. */
  heap: number[];
  size: number;
}

export class EquivalenceIndex {
  /** The group each indexed position is in; -1 when not indexed. */
  private readonly groupAt: Int32Array;
  private readonly ids = new Map<string, number>();
  private readonly groups: Group[] = [];

  /** @param keyOf the key of a position's current state; equal keys promise equal scores. */
  constructor(
    size: number,
    private readonly keyOf: (pos: number) => string,
  ) {
    this.groupAt = new Int32Array(size).fill(-1);
  }

  add(pos: number): void {
    const key = this.keyOf(pos);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.groups.length;
      this.ids.set(key, id);
      this.groups.push({ heap: [], size: 0 });
    }
    const g = this.groups[id]!;
    this.groupAt[pos] = id;
    g.size++;
    heapPush(g.heap, pos);
  }

  /** The node at `pos` changed (something was placed there): file it under its new key. */
  update(pos: number): void {
    const old = this.groupAt[pos]!;
    if (old < 0) return;
    const key = this.keyOf(pos);
    if (this.ids.get(key) === old) return;
    this.groups[old]!.size--;
    this.add(pos);
  }

  /** Calls `fn` with each non-empty group's first member (in shuffled order) and its size. */
  forEachGroup(fn: (rep: number, size: number) => void): void {
    for (let id = 0; id < this.groups.length; id++) {
      const g = this.groups[id]!;
      if (g.size === 0) continue;
      while (this.groupAt[g.heap[0]!] !== id) heapPop(g.heap);
      fn(g.heap[0]!, g.size);
    }
  }
}

function heapPush(h: number[], v: number): void {
  let i = h.length;
  h.push(v);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]! <= v) break;
    h[i] = h[p]!;
    i = p;
  }
  h[i] = v;
}

function heapPop(h: number[]): void {
  const last = h.pop()!;
  if (h.length === 0) return;
  let i = 0;
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && h[r]! < h[l]! ? r : l;
    if (h[c]! >= last) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = last;
}
