import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvalBroker } from './eval-broker.js';
import { testEval, testJob } from '../../scheduler/testing/fixtures.js';
import type { Evaluation } from '../../structs/eval.js';

function broker(opts: { nackTimeoutMs?: number; deliveryLimit?: number } = {}) {
  const failed: Evaluation[] = [];
  let n = 0;
  const b = new EvalBroker({ nackTimeoutMs: opts.nackTimeoutMs ?? 60_000, deliveryLimit: opts.deliveryLimit ?? 3, newToken: () => `t${++n}`, onFailed: (e) => failed.push(e) });
  b.setEnabled(true);
  return { b, failed };
}

const evalFor = (jobId: string, id: string, priority = 50, createIndex = 1) => testEval(testJob({ ID: jobId, Priority: priority }), { ID: id, Priority: priority, CreateIndex: createIndex });

void test('higher priority first, FIFO within a priority', async () => {
  const { b } = broker();
  b.enqueue(evalFor('a', 'e1', 50, 1));
  b.enqueue(evalFor('b', 'e2', 70, 2));
  b.enqueue(evalFor('c', 'e3', 50, 3));
  const order: string[] = [];
  for (let i = 0; i < 3; i++) {
    const d = await b.dequeue(['service'], 0);
    order.push(d!.ev.ID);
    b.ack(d!.ev.ID, d!.token);
  }
  assert.deepEqual(order, ['e2', 'e1', 'e3']);
});

void test('only one evaluation per job is out at a time', async () => {
  const { b } = broker();
  b.enqueue(evalFor('a', 'e1'));
  b.enqueue(evalFor('a', 'e2'));
  const first = await b.dequeue(['service'], 0);
  assert.equal(first!.ev.ID, 'e1');
  assert.equal(await b.dequeue(['service'], 0), null, 'e2 waits while e1 is unacked');
  b.ack('e1', first!.token);
  const second = await b.dequeue(['service'], 0);
  assert.equal(second!.ev.ID, 'e2');
});

void test('a waiting dequeue is woken by an enqueue', async () => {
  const { b } = broker();
  const p = b.dequeue(['service'], 5000);
  b.enqueue(evalFor('a', 'e1'));
  assert.equal((await p)!.ev.ID, 'e1');
});

void test('nack redelivers; past the delivery limit the evaluation fails', async () => {
  const { b, failed } = broker({ deliveryLimit: 2 });
  b.enqueue(evalFor('a', 'e1'));
  const d1 = await b.dequeue(['service'], 0);
  assert.ok(b.nack('e1', d1!.token));
  const d2 = await b.dequeue(['service'], 0);
  assert.equal(d2!.ev.ID, 'e1');
  assert.ok(!b.ack('e1', d1!.token), 'a stale token cannot ack');
  b.nack('e1', d2!.token);
  assert.equal(failed.length, 1);
  assert.equal(await b.dequeue(['service'], 0), null);
});

void test('an unacked evaluation is redelivered after the nack timeout', async () => {
  const { b } = broker({ nackTimeoutMs: 30 });
  b.enqueue(evalFor('a', 'e1'));
  const d1 = await b.dequeue(['service'], 0);
  const d2 = await b.dequeue(['service'], 1000);
  assert.equal(d2!.ev.ID, 'e1');
  assert.notEqual(d2!.token, d1!.token);
});

void test('a disabled broker (not leader) holds nothing', async () => {
  const { b } = broker();
  b.enqueue(evalFor('a', 'e1'));
  b.setEnabled(false);
  b.setEnabled(true);
  assert.equal(await b.dequeue(['service'], 0), null);
});

void test('delayed evaluations become ready at WaitUntil', async () => {
  const { b } = broker();
  b.enqueue({ ...evalFor('a', 'e1'), WaitUntil: (Date.now() + 50) * 1e6 });
  assert.equal(await b.dequeue(['service'], 0), null);
  const d = await b.dequeue(['service'], 2000);
  assert.equal(d!.ev.ID, 'e1');
});
