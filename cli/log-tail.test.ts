import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concatChunks, lastLines } from './log-tail.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

void test('lastLines keeps the last n lines, a final newline included', () => {
  assert.equal(dec(lastLines(enc('a\nb\nc\nd\n'), 2)), 'c\nd\n');
  assert.equal(dec(lastLines(enc('a\nb\nc\nd'), 2)), 'c\nd');
  assert.equal(dec(lastLines(enc('a\nb\n'), 10)), 'a\nb\n');
  assert.equal(dec(lastLines(enc('partial line only'), 1)), 'partial line only');
  assert.equal(dec(lastLines(enc('a\nb\n'), 0)), '');
});

void test('concatChunks joins byte chunks in order', () => {
  assert.equal(dec(concatChunks([enc('ab'), enc(''), enc('c\n')])), 'abc\n');
});
