import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { YurtError } from '../../structs/errors.js';
import { compileFilter } from './filter-expression.js';

const job = {
  ID: 'web-frontend',
  Status: 'running',
  Priority: 50,
  Stop: false,
  Datacenters: ['dc1', 'dc2'],
  Meta: { owner: 'team-a', 'cost-center': 'x1' },
  Empty: '',
  NoList: [],
  TaskGroups: [
    { Name: 'web', Count: 2 },
    { Name: 'cache', Count: 1 },
  ],
};

function m(expr: string): boolean {
  return compileFilter(expr).matches(job);
}

void test('filter: comparisons by field type', () => {
  assert.equal(m('Status == "running"'), true);
  assert.equal(m('Status == running'), true, 'barewords are values');
  assert.equal(m('Status != "running"'), false);
  assert.equal(m('Priority == 50'), true);
  assert.equal(m('Priority == "50"'), true);
  assert.equal(m('Priority == 5'), false);
  assert.equal(m('Stop == false'), true);
  assert.equal(m('Stop == true'), false);
  assert.equal(m('Meta.owner == "team-a"'), true);
  assert.equal(m('Meta["cost-center"] == `x1`'), true);
  assert.equal(m('Meta.missing == "x"'), false, 'a missing field equals nothing');
  assert.equal(m('Meta.missing != "x"'), true);
});

void test('filter: contains, in, matches, is empty', () => {
  assert.equal(m('Datacenters contains "dc2"'), true);
  assert.equal(m('Datacenters not contains "dc3"'), true);
  assert.equal(m('"dc1" in Datacenters'), true);
  assert.equal(m('"dc9" not in Datacenters'), true);
  assert.equal(m('ID contains "front"'), true);
  assert.equal(m('Meta contains "owner"'), true, 'a map contains its keys');
  assert.equal(m('TaskGroups.Name contains "cache"'), true, 'through a list: any element');
  assert.equal(m('TaskGroups.Name contains "cach"'), false, 'through a list: whole values, not substrings');
  assert.equal(m('TaskGroups.Count == 1'), true);
  assert.equal(m('ID matches "^web-"'), true);
  assert.equal(m('ID not matches "^api"'), true);
  assert.equal(m('Empty is empty'), true);
  assert.equal(m('NoList is empty'), true);
  assert.equal(m('Meta.missing is empty'), true);
  assert.equal(m('Meta is not empty'), true);
});

void test('filter: and, or, not and parentheses with the usual precedence', () => {
  assert.equal(m('Status == "dead" or Priority == 50 and Stop == false'), true);
  assert.equal(m('(Status == "dead" or Priority == 50) and Stop == true'), false);
  assert.equal(m('not Status == "dead"'), true);
  assert.equal(m('not (Status == "running" and Priority == 50)'), false);
  assert.equal(m('not not Stop == false'), true);
});

void test('filter: malformed expressions are invalid_argument errors that say where', () => {
  for (const bad of ['', 'Status ==', 'Status = "x"', '(Status == "x"', 'Status == "x" Priority == 1', '"unterminated', 'ID matches "("', 'Status is full', '== "x"', 'Meta[owner] == "x"']) {
    assert.throws(
      () => compileFilter(bad),
      (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument' && /failed to parse filter expression/.test(e.message),
      bad,
    );
  }
  assert.throws(() => compileFilter('Status == "x" and'), /1:18/);
  // Patterns a backtracking engine could take exponential time on, and what RE2 lacks.
  for (const re of ['(a+)+$', '(x*)*y', '(ab|a{2,})+', '(\\w)\\1', '(?=a)b', '(?<!a)b']) {
    assert.throws(() => compileFilter(`ID matches ${JSON.stringify(re)}`), /unsupported regular expression/, re);
  }
  assert.equal(compileFilter('ID matches "^(web|api)-[a-z]+$"').matches({ ID: 'web-front' }), true, 'ordinary patterns still work');
});

void test('filter: any input either compiles or fails with invalid_argument, and evaluation never throws', () => {
  const pieces = ['Status', 'Meta.a', 'Meta["x y"]', 'TaskGroups.Name', '==', '!=', 'and', 'or', 'not', '(', ')', 'is', 'empty', 'contains', 'matches', 'in', '"run"', '`x`', '"(["', '1', 'true', '.', '[', ']', '"'];
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.array(fc.constantFrom(...pieces), { maxLength: 12 }).map((a) => a.join(' '))), (src) => {
      let f;
      try {
        f = compileFilter(src);
      } catch (e) {
        assert.ok(e instanceof YurtError && e.code === 'invalid_argument', String(e));
        return;
      }
      f.matches(job);
      f.matches(null);
      f.matches([job, 1, 'x']);
    }),
    { seed: 20261122, numRuns: 2000 },
  );
});
