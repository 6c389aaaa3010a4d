import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchPrefix, resolvePrefix } from './prefix.js';
import type { PrefixLookup } from './prefix.js';
import { captureIo } from './testdata/capture-io.js';

const items = [{ ID: 'web' }, { ID: 'web-2' }, { ID: 'cache' }];

void test('an exact ID wins over longer IDs sharing the prefix', () => {
  assert.deepEqual(matchPrefix('web', items), { kind: 'one', item: { ID: 'web' } });
});

void test('a unique prefix matches; none and several are told apart', () => {
  assert.deepEqual(matchPrefix('ca', items), { kind: 'one', item: { ID: 'cache' } });
  assert.deepEqual(matchPrefix('x', items), { kind: 'none' });
  assert.deepEqual(matchPrefix('we', items), { kind: 'many', items: [{ ID: 'web' }, { ID: 'web-2' }] });
});

void test('candidates the server failed to filter are ignored', () => {
  assert.deepEqual(matchPrefix('ca', [{ ID: 'zzz' }, { ID: 'cache' }]), { kind: 'one', item: { ID: 'cache' } });
});

function lookup(list: Array<{ ID: string }>, uuid = true): PrefixLookup<{ ID: string }> & { asked: string[] } {
  const asked: string[] = [];
  return {
    noun: 'allocation',
    uuid,
    asked,
    list: async (p) => {
      asked.push(p);
      return list;
    },
    table: (found) => found.map((i) => i.ID).join('\n'),
  };
}

void test('resolvePrefix asks the API with the prefix and returns the match', async () => {
  const io = captureIo();
  const l = lookup([{ ID: '5b4e4f4b-1' }]);
  assert.deepEqual(await resolvePrefix(io, '5b4e4f4b', l), { ID: '5b4e4f4b-1' });
  assert.deepEqual(l.asked, ['5b4e4f4b']);
  assert.equal(io.stderr(), '');
});

void test('ambiguous prefixes list the matches and give exit code 1', async () => {
  const io = captureIo();
  assert.equal(await resolvePrefix(io, '5b', lookup([{ ID: '5b1' }, { ID: '5b2' }])), 1);
  assert.equal(io.stderr(), 'Prefix matched multiple allocations\n\n5b1\n5b2\n');
});

void test('no match and too-short UUID prefixes are errors', async () => {
  const io = captureIo();
  assert.equal(await resolvePrefix(io, 'ff', lookup([])), 1);
  assert.equal(await resolvePrefix(io, 'f', lookup([{ ID: 'f1' }])), 1);
  assert.equal(io.stderr(), 'No allocation(s) with prefix or id "ff" found\nIdentifier must contain at least two characters.\n');
});

void test('API failures during lookup are reported', async () => {
  const io = captureIo();
  const failing: PrefixLookup<{ ID: string }> = { ...lookup([]), list: () => Promise.reject(new Error('boom')) };
  assert.equal(await resolvePrefix(io, 'abc', failing), 1);
  assert.equal(io.stderr(), 'Error querying allocation: boom\n');
});
