import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToMB, parseSize } from './size.js';
import { YurtError } from './errors.js';

void test('parseSize reads SI and IEC units, case-insensitively, a bare number being bytes', () => {
  const cases: Array<[string, number]> = [
    ['512MB', 512_000_000],
    ['1GiB', 1024 ** 3],
    ['40 GiB', 40 * 1024 ** 3],
    ['100', 100],
    ['100B', 100],
    ['1.5KB', 1500],
    ['2k', 2000],
    ['10mib', 10 * 1024 ** 2],
    ['3Ti', 3 * 1024 ** 4],
    [' 7 MiB ', 7 * 1024 ** 2],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
});

void test('parseSize refuses anything else with a clear message', () => {
  for (const text of ['', 'abc', '-1MB', '1XB', '1 2 MB', 'MB']) {
    assert.throws(
      () => parseSize(text),
      (e: unknown) =>
        e instanceof YurtError &&
        e.code === 'invalid_argument' &&
        e.message === `invalid size ${JSON.stringify(text)}: expected a number with an optional unit such as "512MB" or "1GiB"`,
      text,
    );
  }
});

void test('bytesToMB converts to mebibytes, rounding up', () => {
  assert.equal(bytesToMB(1024 ** 3), 1024);
  assert.equal(bytesToMB(512_000_000), 489);
  assert.equal(bytesToMB(1), 1);
  assert.equal(bytesToMB(0), 0);
});
