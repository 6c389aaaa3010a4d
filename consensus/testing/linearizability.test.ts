import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvOperation } from './linearizability.js';
import { checkLinearizable } from './linearizability.js';

const put = (client: number, value: string, callAt: number, returnAt: number, key = 'x'): KvOperation => ({ client, key, kind: 'put', value, callAt, returnAt });
const get = (client: number, value: string | null, callAt: number, returnAt: number, key = 'x'): KvOperation => ({ client, key, kind: 'get', value, callAt, returnAt });

void describe('linearizability checker', () => {
  void it('accepts sequential and overlapping histories that some order explains', () => {
    assert.equal(checkLinearizable([put(1, 'a', 0, 1), get(2, 'a', 2, 3), put(1, 'b', 4, 5), get(2, 'b', 6, 7)]).ok, true);
    // Overlapping write and read: the read may see either value.
    assert.equal(checkLinearizable([put(1, 'a', 0, 1), put(1, 'b', 2, 6), get(2, 'a', 3, 4)]).ok, true);
    assert.equal(checkLinearizable([put(1, 'a', 0, 1), put(1, 'b', 2, 6), get(2, 'b', 3, 4)]).ok, true);
    assert.equal(checkLinearizable([get(1, null, 0, 1), put(2, 'a', 0, 5)]).ok, true);
  });

  void it('rejects a stale read after an acknowledged write', () => {
    const r = checkLinearizable([put(1, 'a', 0, 1), put(1, 'b', 2, 3), get(2, 'a', 4, 5)]);
    assert.equal(r.ok, false);
    assert.deepEqual(r.failedKeys, ['x']);
    assert.match(r.explanation, /get\(x\) -> "a"/);
  });

  void it('rejects reads that disagree on the order of two writes', () => {
    // Two concurrent writes; one reader sees b then a, the other a then b afterwards.
    const h = [put(1, 'a', 0, 10), put(2, 'b', 0, 10), get(3, 'b', 1, 2), get(3, 'a', 3, 4), get(4, 'b', 5, 6)];
    assert.equal(checkLinearizable(h).ok, false);
  });

  void it('treats a write of unknown outcome as possibly applied at any later time, or never', () => {
    const lostOrLate = [put(1, 'a', 0, 1), put(2, 'b', 2, Infinity), get(3, 'a', 5, 6), get(3, 'b', 7, 8), get(3, 'b', 9, 10)];
    assert.equal(checkLinearizable(lostOrLate).ok, true);
    const never = [put(1, 'a', 0, 1), put(2, 'b', 2, Infinity), get(3, 'a', 5, 6)];
    assert.equal(checkLinearizable(never).ok, true);
    // ...but once seen, it cannot be unseen.
    const flipflop = [put(1, 'a', 0, 1), put(2, 'b', 2, Infinity), get(3, 'b', 5, 6), get(3, 'a', 7, 8)];
    assert.equal(checkLinearizable(flipflop).ok, false);
    // ...and it cannot take effect before it was called.
    const early = [put(1, 'a', 0, 1), get(3, 'b', 2, 3), put(2, 'b', 4, Infinity)];
    assert.equal(checkLinearizable(early).ok, false);
  });

  void it('checks keys independently', () => {
    const h = [put(1, 'a', 0, 1, 'x'), put(1, 'a', 0, 1, 'y'), get(2, 'a', 2, 3, 'x'), get(2, null, 2, 3, 'y')];
    const r = checkLinearizable(h);
    assert.deepEqual(r.failedKeys, ['y']);
  });

  void it('decides a long concurrent history quickly', () => {
    // 600 operations by 6 clients on one key, generated from a real register with overlap.
    let seed = 3;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const h: KvOperation[] = [];
    let value: string | null = null;
    let t = 0;
    for (let i = 0; i < 600; i++) {
      const client = i % 6;
      const callAt = t;
      const takesEffect = t + rnd() * 3;
      t += 1;
      if (rnd() < 0.5) {
        value = `v${i}`;
        h.push(put(client, value, callAt, takesEffect + rnd() * 3));
      } else {
        h.push(get(client, value, callAt, takesEffect + rnd() * 3));
      }
      t = Math.max(t, takesEffect);
    }
    const started = performance.now();
    assert.equal(checkLinearizable(h).ok, true);
    assert.ok(performance.now() - started < 5000);
  });
  void it('stays decisive with many writes of unknown outcome that no read saw, and still catches a stale read among them', () => {
    const h: KvOperation[] = [put(0, 'a', 0, 1), get(1, 'a', 2, 3)];
    // 80 timed-out writes, all overlapping everything after them: without pruning the search
    // must consider every order of them.
    for (let i = 0; i < 80; i++) h.push(put(2 + (i % 5), `lost${i}`, 4 + i * 0.01, Infinity));
    h.push(put(9, 'b', 10, 11), get(10, 'b', 12, 13));
    assert.equal(checkLinearizable(h, 200_000).ok, true);
    // The same, with a read that saw the value before "b" after "b" was acknowledged: not linearizable.
    const stale = [...h, get(11, 'a', 14, 15)];
    const r = checkLinearizable(stale, 200_000);
    assert.equal(r.ok, false);
    assert.doesNotMatch(r.explanation, /gave up/);
  });
});
