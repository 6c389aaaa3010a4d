import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.js';
import { YurtError } from './errors.js';

const S = 1_000_000_000;

void test('parseDuration reads Go duration strings into nanoseconds', () => {
  const cases: Array<[string, number]> = [
    ['30s', 30 * S],
    ['5m', 300 * S],
    ['1h30m', 5400 * S],
    ['250ms', 250_000_000],
    ['10us', 10_000],
    ['10\u00b5s', 10_000],
    ['10\u03bcs', 10_000],
    ['7ns', 7],
    ['1.5h', 5400 * S],
    ['.5s', S / 2],
    ['2h45m0.5s', (2 * 3600 + 45 * 60) * S + S / 2],
    ['0', 0],
    ['-0', 0],
    ['+5s', 5 * S],
    ['-1.5h', -5400 * S],
    ['1.000000001s', S + 1],
    ['8760h', 8760 * 3600 * S],
  ];
  for (const [text, ns] of cases) assert.equal(parseDuration(text), ns, text);
});

void test('parseDuration refuses what Go refuses, saying why', () => {
  const cases: Array<[string, string]> = [
    ['', 'invalid duration "": expected a number followed by a unit such as "30s" or "5m"'],
    ['5', 'invalid duration "5": missing unit (valid units: ns, us, ms, s, m, h)'],
    ['1d', 'invalid duration "1d": unknown unit "d" (valid units: ns, us, ms, s, m, h)'],
    ['s', 'invalid duration "s": expected a number followed by a unit such as "30s" or "5m"'],
    [' 30s', 'invalid duration " 30s": expected a number followed by a unit such as "30s" or "5m"'],
    ['30 s', 'invalid duration "30 s": unknown unit " s" (valid units: ns, us, ms, s, m, h)'],
    ['3000000h', 'invalid duration "3000000h": out of range (more than about 292 years)'],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseDuration(text), (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument' && e.message === message, text);
  }
});

void test('formatDuration prints like Go Duration.String()', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [3600 * S, '1h0m0s'],
    [30 * S, '30s'],
    [90 * S, '1m30s'],
    [1.5 * S, '1.5s'],
    [250_000_000, '250ms'],
    [1_500_000, '1.5ms'],
    [1_500, '1.5\u00b5s'],
    [100, '100ns'],
    [-30 * S, '-30s'],
    [(26 * 3600 + 3) * S + 1, '26h0m3.000000001s'],
  ];
  for (const [ns, text] of cases) assert.equal(formatDuration(ns), text, String(ns));
});

void test('formatDuration output parses back to the same value', () => {
  for (const ns of [1, 999, 1_000_001, 59 * S, 61 * S + 7, 25 * 3600 * S + 123_456_789, -42 * S]) {
    assert.equal(parseDuration(formatDuration(ns)), ns);
  }
});
