import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineFlags } from '../structs/flags.js';
import { parseVarFlags } from './var-flags.js';
import { UsageError, expectArgs, parseArgs, wantsHelp } from './usage.js';

const spec = defineFlags({
  detach: { type: 'bool', help: '' },
  var: { type: 'stringList', help: '' },
  n: { type: 'int', help: '' },
  address: { type: 'string', help: '' },
});

void test('Nomad-style flags: -flag, --flag, -flag=value, -flag value, repeatable -var', () => {
  const { flags, args } = parseArgs(['-detach', '--address=http://h:1', '-var', 'a=1', '-var=b=2', '-n', '5', 'job.hcl'], spec);
  assert.equal(flags.detach, true);
  assert.equal(flags.address, 'http://h:1');
  assert.deepEqual(flags.var, ['a=1', 'b=2']);
  assert.equal(flags.n, 5);
  assert.deepEqual(args, ['job.hcl']);
});

void test('"-" is an argument (stdin) and "--" ends the flags', () => {
  assert.deepEqual(parseArgs(['-'], spec).args, ['-']);
  assert.deepEqual(parseArgs(['--', '-detach'], spec).args, ['-detach']);
});

void test('bad flags are usage errors in Go wording', () => {
  assert.throws(() => parseArgs(['-nope'], spec), (e: unknown) => e instanceof UsageError && e.message === 'flag provided but not defined: -nope');
  assert.throws(() => parseArgs(['-n', 'x'], spec), (e: unknown) => e instanceof UsageError && /invalid value "x" for flag -n/.test(e.message));
  assert.throws(() => parseArgs(['-var'], spec), (e: unknown) => e instanceof UsageError && e.message === 'flag needs an argument: -var');
  assert.throws(() => expectArgs(['a', 'b'], 1, 1, 'one argument: <path>'), UsageError);
});

void test('help is wanted anywhere before "--"', () => {
  assert.equal(wantsHelp(['job.hcl', '-h']), true);
  assert.equal(wantsHelp(['--help']), true);
  assert.equal(wantsHelp(['--', '-h']), false);
  assert.equal(wantsHelp(['-detach']), false);
});

void test('-var values split at the first "="', () => {
  assert.deepEqual(parseVarFlags(['a=1', 'b=x=y', 'c=']), { a: '1', b: 'x=y', c: '' });
  assert.throws(() => parseVarFlags(['novalue']), UsageError);
});
