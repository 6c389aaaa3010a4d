import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from '../core/messages.js';
import { RecentEntries } from './recent-entries.js';
import { TermRuns } from './term-runs.js';

const e = (index: number, term: number, bytes = 10): Entry => ({ index, term, type: 'normal', data: new Uint8Array(bytes) });

void describe('TermRuns', () => {
  void it('answers terms across runs, truncation and compaction', () => {
    const r = new TermRuns();
    for (let i = 1; i <= 10; i++) r.append(i, i <= 3 ? 1 : i <= 7 ? 2 : 4);
    assert.deepEqual([1, 3, 4, 7, 8, 10].map((i) => r.term(i)), [1, 1, 2, 2, 4, 4]);
    assert.equal(r.term(0), undefined);
    r.truncateFrom(6);
    r.append(6, 5);
    assert.deepEqual([5, 6, 9].map((i) => r.term(i)), [2, 5, 5]);
    r.dropUpTo(4);
    assert.deepEqual([4, 5, 6].map((i) => r.term(i)), [undefined, 2, 5]);
    r.dropUpTo(5);
    assert.deepEqual([5, 6, 7].map((i) => r.term(i)), [undefined, 5, 5]);
  });
});

void describe('RecentEntries', () => {
  void it('keeps a bounded contiguous tail that follows truncations and compaction', () => {
    const c = new RecentEntries(5, 1000);
    c.written([e(1, 1), e(2, 1), e(3, 1)]);
    c.written([e(4, 1), e(5, 1), e(6, 1), e(7, 1)]);
    assert.equal(c.covers(3, 8), true);
    assert.equal(c.covers(2, 8), false, 'only the last five');
    c.written([e(5, 2)]);
    assert.equal(c.get(5)?.term, 2);
    assert.equal(c.get(6), undefined, 'the replaced suffix is gone');
    c.dropUpTo(4);
    assert.equal(c.covers(5, 6), true);
    assert.equal(c.get(4), undefined);
    c.written([e(9, 3)]); // not contiguous: start over
    assert.equal(c.covers(9, 10), true);
    assert.equal(c.get(5), undefined);
  });

  void it('bounds the bytes held', () => {
    const c = new RecentEntries(100, 250);
    c.written([e(1, 1, 100), e(2, 1, 100), e(3, 1, 100)]);
    assert.equal(c.covers(2, 4), true);
    assert.equal(c.covers(1, 4), false);
  });
});
