import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildQuery, formatWait, parseQueryMeta } from './query.js';

void test('formatWait uses Go duration syntax', () => {
  assert.equal(formatWait(30_000), '30s');
  assert.equal(formatWait(1500), '1500ms');
  assert.equal(formatWait(0), '0s');
});

void test('buildQuery: per-call options override the client defaults', () => {
  const q = buildQuery({ region: 'global', namespace: 'default' }, { index: 42, waitMs: 30_000, stale: true, prefix: '5b', namespace: 'prod', params: { purge: 'true' } });
  assert.equal(q.toString(), 'region=global&namespace=prod&index=42&wait=30s&stale=true&prefix=5b&purge=true');
  assert.equal(buildQuery({}, undefined).toString(), '');
  assert.equal(buildQuery({ namespace: '' }, { index: 0 }).toString(), '', 'index 0 is not a blocking query');
});

void test('parseQueryMeta reads the X-Nomad-* headers', () => {
  const h = new Headers({ 'X-Nomad-Index': '17', 'X-Nomad-KnownLeader': 'true', 'X-Nomad-LastContact': '5', 'X-Nomad-NextToken': 'web' });
  assert.deepEqual(parseQueryMeta(h), { index: 17, knownLeader: true, lastContactMs: 5, nextToken: 'web' });
  assert.deepEqual(parseQueryMeta(new Headers()), { index: 0, knownLeader: false, lastContactMs: 0, nextToken: '' });
});

void test('buildQuery sends filter and paging as Nomad names them', () => {
  const q = buildQuery({}, { filter: 'Status == "running"', perPage: 20, nextToken: 'abc', reverse: true });
  assert.equal(q.get('filter'), 'Status == "running"');
  assert.equal(q.get('per_page'), '20');
  assert.equal(q.get('next_token'), 'abc');
  assert.equal(q.get('reverse'), 'true');
  assert.equal(buildQuery({}, { perPage: 0, filter: '' }).toString(), '', 'unset paging sends nothing');
});
