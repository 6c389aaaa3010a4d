import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatKV, formatList, limit } from './table.js';

void test('formatList aligns columns with two spaces and never pads the last column', () => {
  const out = formatList([
    ['ID', 'Type', 'Priority', 'Status'],
    ['example', 'batch', 50, 'running'],
    ['a', 'service', 100, 'dead'],
  ]);
  assert.equal(
    out,
    ['ID       Type     Priority  Status', 'example  batch    50        running', 'a        service  100       dead'].join('\n'),
  );
  for (const line of out.split('\n')) assert.equal(line, line.trimEnd());
});

void test('formatList shows empty cells as <none> so output stays awk-able', () => {
  assert.equal(formatList([['A', 'B'], ['', 'x'], ['y', '  ']]), 'A       B\n<none>  x\ny       <none>');
});

void test('formatKV aligns keys with " = "', () => {
  assert.equal(formatKV([['ID', 'abc'], ['Submit Date', ''], ['Periodic', false]]), 'ID          = abc\nSubmit Date = <none>\nPeriodic    = false');
});

void test('limit cuts IDs to the given length', () => {
  assert.equal(limit('0f0e2c9a-1111-2222-3333-444455556666', 8), '0f0e2c9a');
  assert.equal(limit('abc', 8), 'abc');
});
