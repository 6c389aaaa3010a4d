import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from '../state/state-store.js';
import { Fsm } from '../fsm.js';
import { encodeCommand, type FsmCommand } from '../fsm-commands.js';
import { EventBroker } from './event-broker.js';
import { parseEventFilter } from './event-filter.js';
import { testNode } from '../../../scheduler/testing/fixtures.js';

const ALL = parseEventFilter([], '*');

/** A real LMDB state and FSM, with a broker on its change feed. */
async function withBroker(opts: { capacity?: number; maxBytes?: number }, fn: (h: { broker: EventBroker; apply: (c: FsmCommand) => void }) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-events-'));
  const state = StateStore.open(dir);
  const fsm = new Fsm(state);
  const broker = new EventBroker(state, opts);
  let index = 0;
  const apply = (cmd: FsmCommand): void => void fsm.apply({ index: ++index, term: 1, data: encodeCommand(cmd) });
  try {
    await fn({ broker, apply });
  } finally {
    broker.close();
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void test('events serialized for a subscriber count against the byte bound, and the oldest go first', () =>
  withBroker({ capacity: 1000, maxBytes: 8_000 }, ({ broker, apply }) => {
    const lines: string[] = [];
    const sub = broker.subscribe(0, ALL, (l) => lines.push(l));
    for (let i = 0; i < 20; i++) apply({ type: 'NodeRegister', node: testNode(`n${i}`), now: 1 });
    sub.unsubscribe();
    assert.equal(lines.length, 20, 'the subscriber saw every registration');
    const held = broker.held();
    const bytes = held.flatMap((b) => b.Events).reduce((n, e) => n + JSON.stringify(e).length, 0);
    assert.ok(held.length < 20, `the byte bound trimmed the ring (${held.length} batches held)`);
    assert.ok(bytes <= 8_000 + 2_000, `held about maxBytes of events (${bytes})`);
    assert.equal(held.at(-1)?.Events[0]?.Key, 'n19', 'the newest batch is kept');
  }));

void test('with no one subscribed, events are kept unserialized and bounded by count', () =>
  withBroker({ capacity: 5, maxBytes: 8_000 }, ({ broker, apply }) => {
    for (let i = 0; i < 20; i++) apply({ type: 'NodeRegister', node: testNode(`n${i}`), now: 1 });
    const held = broker.held();
    assert.ok(held.reduce((n, b) => n + b.Events.length, 0) <= 6, 'the ring keeps about `capacity` events');
    // A later subscriber resuming from the oldest held index still gets them, serialized then.
    const lines: string[] = [];
    broker.subscribe(broker.oldestIndex(), ALL, (l) => lines.push(l)).unsubscribe();
    assert.equal(lines.length, held.length);
    assert.match(lines.at(-1)!, /"Key":"n19"/);
  }));
