import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkMessage } from './message-guard.js';

const app = {
  type: 'app',
  from: 'a',
  to: 'b',
  term: 3,
  prevIndex: 4,
  prevTerm: 2,
  commit: 4,
  entries: [
    { index: 5, term: 3, type: 'noop', data: new Uint8Array(0) },
    { index: 6, term: 3, type: 'normal', data: new Uint8Array([1]) },
  ],
};

const reasonOf = (v: unknown) => {
  const r = checkMessage(v);
  return r.ok ? 'ok' : r.reason;
};

void describe('checkMessage', () => {
  void it('accepts well-formed messages of every type', () => {
    assert.equal(reasonOf(app), 'ok');
    assert.equal(reasonOf({ type: 'vote', from: 'a', to: 'b', term: 1, lastLogIndex: 0, lastLogTerm: 0 }), 'ok');
    assert.equal(reasonOf({ type: 'voteResp', from: 'a', to: 'b', term: 1, reject: true }), 'ok');
    assert.equal(reasonOf({ type: 'appResp', from: 'a', to: 'b', term: 1, reject: false, index: 3, rejectHint: 0, hintTerm: 0 }), 'ok');
    assert.equal(reasonOf({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0 }), 'ok');
    assert.equal(reasonOf({ type: 'heartbeatResp', from: 'a', to: 'b', term: 1 }), 'ok');
  });

  void it('names what is wrong with a malformed one', () => {
    assert.equal(reasonOf(null), 'message is not an object');
    assert.equal(reasonOf({ ...app, type: 'snap' }), 'unknown message type "snap"');
    assert.equal(reasonOf({ ...app, type: 'toString' }), 'unknown message type "toString"');
    assert.equal(reasonOf({ ...app, from: '' }), 'app.from: not a non-empty string');
    assert.equal(reasonOf({ ...app, term: -1 }), 'app.term: not a non-negative integer');
    assert.equal(reasonOf({ ...app, commit: 1.5 }), 'app.commit: invalid value');
    assert.equal(reasonOf({ ...app, entries: 'x' }), 'app.entries: invalid value');
    assert.equal(reasonOf({ ...app, entries: [{ ...app.entries[0], data: [1, 2] }] }), 'app.entries[0].data: not bytes');
    assert.equal(reasonOf({ ...app, entries: [{ ...app.entries[0], type: 'weird' }] }), 'app.entries[0].type: unknown entry type');
    assert.equal(reasonOf({ ...app, entries: [app.entries[1]] }), 'app.entries[0].index: expected 5');
  });
});
