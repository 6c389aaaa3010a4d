import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr, pack } from 'msgpackr';
import { decodeCommand, encodeCommand, type FsmCommand } from './fsm-commands.js';
import { testAlloc, testEval, testJob } from '../../scheduler/testing/fixtures.js';

const job = testJob({ ID: 'web', Name: 'web' });

function planCommand(evalId: string, n: number): FsmCommand {
  const placed = Array.from({ length: n }, (_, i) => {
    const { Job: _job, ...rest } = testAlloc(job, { ID: `${evalId}-a${i}`, NodeID: `n${i % 7}`, Name: `web.web[${i}]` });
    return rest;
  });
  return { type: 'PlanApply', evalId, job, placed, updated: [], evals: [{ ...testEval(job), ID: evalId, Status: 'complete' }], now: 1, deployment: null, deploymentUpdates: [] };
}

void test('a command decodes to what was encoded, and each entry decodes on its own', () => {
  const first = planCommand('e1', 3);
  const second = planCommand('e2', 40);
  const a = encodeCommand(first);
  const b = encodeCommand(second);
  // The second entry must not lean on shapes the first one defined: a follower or a restarted
  // server reads an entry without the ones before it.
  assert.deepEqual(decodeCommand(b), JSON.parse(JSON.stringify(second)));
  assert.deepEqual(decodeCommand(a), JSON.parse(JSON.stringify(first)));
});

void test('entries written as plain msgpack maps (by earlier servers) still decode', () => {
  const cmd = planCommand('old', 5);
  assert.deepEqual(decodeCommand(pack(cmd)), decodeCommand(encodeCommand(cmd)));
});

void test('entries written with records but without bundled strings (by earlier servers) still decode', () => {
  const cmd = planCommand('records', 5);
  assert.deepEqual(decodeCommand(new Packr({ useRecords: true }).pack(cmd)), decodeCommand(encodeCommand(cmd)));
});

void test('strings of every script survive the bundle', () => {
  const cmd: FsmCommand = { type: 'EvalUpsert', evals: [{ ...testEval(job), ID: 'ünïcödé-評価-🚀', StatusDescription: 'x'.repeat(70_000) }] };
  assert.deepEqual(decodeCommand(encodeCommand(cmd)), JSON.parse(JSON.stringify(cmd)));
});

void test('a plan of many allocations describes their shape once: well under half the size of plain maps', () => {
  const cmd = planCommand('big', 100);
  const size = encodeCommand(cmd).length;
  assert.ok(size < pack(cmd).length / 2, `${size} bytes against ${pack(cmd).length}`);
});

void test('bytes that are not a command are refused as corrupted', () => {
  assert.throws(() => decodeCommand(pack([1, 2, 3])), /does not hold a state command/);
});
