import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry, Message, Ready } from './core/messages.js';
import { splitCommitted } from './apply-during-write.js';

const entry = (index: number): Entry => ({ index, term: 2, type: 'normal', data: new Uint8Array([index]) });
const indexes = (es: readonly Entry[]): number[] => es.map((e) => e.index);

function ready(over: Partial<Ready>): Ready {
  return { entries: [], committedEntries: [], earlyMessages: [], messages: [], readStates: [], ...over };
}

void describe('splitCommitted', () => {
  void it('applies early only what earlier Readies wrote, never an entry of this write', () => {
    // A follower's append can commit entries it carries: those must wait for their own write.
    const { durable, rest } = splitCommitted(ready({ entries: [entry(5), entry(6)], committedEntries: [entry(3), entry(4), entry(5), entry(6)], hardState: { term: 2, vote: 'a', commit: 6 } }));
    assert.deepEqual(indexes(durable), [3, 4]);
    assert.deepEqual(indexes(rest), [5, 6]);
  });

  void it('applies everything early when only the hard state is written', () => {
    const { durable, rest } = splitCommitted(ready({ committedEntries: [entry(3), entry(4)], hardState: { term: 2, vote: 'a', commit: 4 } }));
    assert.deepEqual(indexes(durable), [3, 4]);
    assert.deepEqual(indexes(rest), []);
  });

  void it('applies nothing early when acks or votes wait on the write, or a snapshot comes first', () => {
    const ack: Message = { type: 'appResp', from: 'b', to: 'a', term: 2, index: 6, reject: false, rejectHint: 0, hintTerm: 0 };
    const withAck = splitCommitted(ready({ entries: [entry(5)], committedEntries: [entry(4)], messages: [ack] }));
    assert.deepEqual(indexes(withAck.durable), []);
    assert.deepEqual(indexes(withAck.rest), [4]);
    const withSnapshot = splitCommitted(ready({ entries: [entry(9)], committedEntries: [entry(8)], snapshot: { meta: { index: 7, term: 2, configIndex: 0, configuration: { servers: [] } }, data: new Uint8Array() } }));
    assert.deepEqual(indexes(withSnapshot.durable), []);
  });

  void it('applies nothing early when nothing is being written', () => {
    const { durable, rest } = splitCommitted(ready({ committedEntries: [entry(3)] }));
    assert.deepEqual(indexes(durable), []);
    assert.deepEqual(indexes(rest), [3]);
  });
});
