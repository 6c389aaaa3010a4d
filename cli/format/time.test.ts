import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDurationNs, formatTaskTime, formatTime, formatUnixNano, prettyTimeDiff } from './time.js';

const now = Date.parse('2026-11-22T10:00:00Z');

void test('formatTime prints UTC seconds with Z, and nothing for the epoch', () => {
  assert.equal(formatTime(Date.parse('2026-11-22T10:00:00.987Z')), '2026-11-22T10:00:00Z');
  assert.equal(formatTime(0), '');
  assert.equal(formatUnixNano(now * 1e6), '2026-11-22T10:00:00Z');
});

void test('prettyTimeDiff keeps the two largest units, like Nomad', () => {
  assert.equal(prettyTimeDiff(now - 62_000, now), '1m2s ago');
  assert.equal(prettyTimeDiff(now - 5_000, now), '5s ago');
  assert.equal(prettyTimeDiff(now - 200, now), '0s ago');
  assert.equal(prettyTimeDiff(now - (3 * 3600 + 4 * 60 + 5) * 1000, now), '3h4m ago');
  assert.equal(prettyTimeDiff(now - 3600_000, now), '1h ago');
  assert.equal(prettyTimeDiff(now - (10 * 30 + 12) * 86400_000 - 3 * 3600_000, now), '10mo12d ago');
  assert.equal(prettyTimeDiff(now - 400 * 86400_000, now), '1y1mo ago');
  assert.equal(prettyTimeDiff(now + 90_000, now), '1m30s from now');
  assert.equal(prettyTimeDiff(0, now), '');
});

void test('task times: Go zero time and null read N/A', () => {
  assert.equal(formatTaskTime(null), 'N/A');
  assert.equal(formatTaskTime('0001-01-01T00:00:00Z'), 'N/A');
  assert.equal(formatTaskTime('2026-11-22T09:59:01.5Z'), '2026-11-22T09:59:01Z');
});

void test('formatDurationNs follows Go time.Duration.String', () => {
  assert.equal(formatDurationNs(0), '0s');
  assert.equal(formatDurationNs(5e9), '5s');
  assert.equal(formatDurationNs(1.5e6), '1.5ms');
  assert.equal(formatDurationNs(90e9), '1m30s');
  assert.equal(formatDurationNs(3723e9), '1h2m3s');
  assert.equal(formatDurationNs(250), '250ns');
});
