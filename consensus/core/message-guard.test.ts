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

const snap = {
  type: 'snap',
  from: 'a',
  to: 'b',
  term: 3,
  snapshot: { index: 40, term: 2, configIndex: 1, configuration: { servers: [{ id: 'a', address: 'a:1', suffrage: 'voter' }] } },
  data: new Uint8Array([1, 2, 3]),
};

const reasonOf = (v: unknown) => {
  const r = checkMessage(v);
  return r.ok ? 'ok' : r.reason;
};

void describe('checkMessage', () => {
  void it('accepts well-formed messages of every type', () => {
    assert.equal(reasonOf(app), 'ok');
    assert.equal(reasonOf({ type: 'vote', from: 'a', to: 'b', term: 1, lastLogIndex: 0, lastLogTerm: 0, transfer: false }), 'ok');
    assert.equal(reasonOf({ type: 'voteResp', from: 'a', to: 'b', term: 1, reject: true }), 'ok');
    assert.equal(reasonOf({ type: 'preVote', from: 'a', to: 'b', term: 2, lastLogIndex: 0, lastLogTerm: 0 }), 'ok');
    assert.equal(reasonOf({ type: 'preVoteResp', from: 'a', to: 'b', term: 2, reject: false }), 'ok');
    assert.equal(reasonOf({ type: 'appResp', from: 'a', to: 'b', term: 1, reject: false, index: 3, rejectHint: 0, hintTerm: 0 }), 'ok');
    assert.equal(reasonOf({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0, ctx: 0 }), 'ok');
    assert.equal(reasonOf({ type: 'heartbeatResp', from: 'a', to: 'b', term: 1, ctx: 4 }), 'ok');
    assert.equal(reasonOf(snap), 'ok');
    assert.equal(reasonOf({ type: 'timeoutNow', from: 'a', to: 'b', term: 1 }), 'ok');
    assert.equal(reasonOf({ type: 'readIndex', from: 'a', to: 'b', term: 1, ctx: 9 }), 'ok');
    assert.equal(reasonOf({ type: 'readIndexResp', from: 'a', to: 'b', term: 1, ctx: 9, index: 7, reject: false }), 'ok');
  });

  void it('names what is wrong with a malformed one', () => {
    assert.equal(reasonOf(null), 'message is not an object');
    assert.equal(reasonOf({ ...app, type: 'install' }), 'unknown message type "install"');
    assert.equal(reasonOf({ ...app, to: 'a' }), 'app: from and to are the same server');
    assert.equal(reasonOf({ type: 'vote', from: 'a', to: 'b', term: 1, lastLogIndex: 0, lastLogTerm: 0 }), 'vote.transfer: invalid value');
    assert.equal(reasonOf({ ...snap, data: 'bytes' }), 'snap.data: invalid value');
    assert.equal(reasonOf({ ...snap, snapshot: { ...snap.snapshot, configIndex: 99 } }), 'snap.snapshot: invalid value');
    assert.equal(
      reasonOf({ ...snap, snapshot: { ...snap.snapshot, configuration: { servers: [{ id: 'a', address: 'x', suffrage: 'king' }] } } }),
      'snap.snapshot: invalid value',
    );
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
