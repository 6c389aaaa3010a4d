import assert from 'node:assert/strict';
import { test } from 'node:test';
import { YurtError } from '../../structs/errors.js';
import { isExecPath, parseExecRequest } from './routes-alloc-exec.js';

const url = (q: string) => `/v1/client/allocation/abc-123/exec?${q}`;
const cmd = (c: unknown) => `command=${encodeURIComponent(JSON.stringify(c))}`;

void test('an exec request names the allocation, the task and a command array', () => {
  assert.deepEqual(parseExecRequest(url(`task=web&${cmd(['/bin/sh', '-c', 'id'])}&tty=false`)), {
    allocId: 'abc-123',
    task: 'web',
    command: ['/bin/sh', '-c', 'id'],
    tty: false,
  });
  assert.equal(parseExecRequest(url(cmd(['ls']))).task, undefined);
  assert.equal(parseExecRequest(url(cmd(['ls']))).tty, false, 'no tty unless asked for');
  assert.equal(parseExecRequest(url(`${cmd(['sh'])}&tty=true`)).tty, true);
  assert.equal(isExecPath('/v1/client/allocation/x/exec?command=1'), true);
  assert.equal(isExecPath('/v1/client/allocation/x/stats'), false);
});

void test('a bad exec request is refused with the parameter it got wrong', () => {
  const refused = (u: string, re: RegExp) =>
    assert.throws(() => parseExecRequest(u), (e: unknown) => e instanceof YurtError && e.httpStatus === 400 && re.test(e.message));
  refused(url(''), /^command: missing/);
  refused(url('command=%5B'), /^command: not valid JSON/);
  refused(url(cmd('ls')), /^command: must be a non-empty JSON array of strings/);
  refused(url(cmd([])), /^command: must be a non-empty JSON array/);
  refused(url(cmd(['ls', 1])), /^command: must be a non-empty JSON array/);
  refused(url(cmd([''])), /^command: must be a non-empty JSON array/);
  refused(url(`${cmd(['sh'])}&tty=yes`), /^tty: must be true or false, got "yes"/);
});
