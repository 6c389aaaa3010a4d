/** ACL and namespace commands applied by the real FSM to a real LMDB state store. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { testJob } from '../../scheduler/testing/fixtures.js';
import type { ACLToken } from '../../structs/acl.js';
import { encodeCommand, type FsmCommand } from '../server/fsm-commands.js';
import { Fsm } from '../server/fsm.js';
import { StateStore } from '../server/state/state-store.js';

function open(dir: string): { state: StateStore; apply: (cmd: FsmCommand) => { index: number; updated: boolean } } {
  const state = StateStore.open(dir);
  const fsm = new Fsm(state);
  let index = state.lastApplied().index;
  return { state, apply: (cmd) => fsm.apply({ index: ++index, term: 1, data: encodeCommand(cmd) }) as { index: number; updated: boolean } };
}

function token(accessor: string, secret: string, over: Partial<ACLToken> = {}): Omit<ACLToken, 'CreateIndex' | 'ModifyIndex'> {
  return { AccessorID: accessor, SecretID: secret, Name: accessor, Type: 'client', Policies: ['p'], Global: false, CreateTime: '2026-11-22T10:00:00.000Z', ExpirationTime: null, ...over };
}

void test('bootstrap applies once: a racing second bootstrap changes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-acl-fsm-'));
  try {
    const { state, apply } = open(dir);
    assert.equal(state.aclBootstrapIndex(), 0);
    const first = apply({ type: 'ACLBootstrap', token: token('a1', 's1', { Type: 'management', Policies: [] }) });
    assert.deepEqual(first, { index: 1, updated: true });
    const second = apply({ type: 'ACLBootstrap', token: token('a2', 's2', { Type: 'management', Policies: [] }) });
    assert.equal(second.updated, false);
    assert.equal(state.aclBootstrapIndex(), 1);
    assert.equal(state.aclTokenBySecret('s2'), null);
    assert.equal(state.aclTokenBySecret('s1')?.AccessorID, 'a1');
    assert.equal(state.tableIndex('acl_tokens'), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('tokens: the secret index follows upserts and deletes; indexes are stamped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-acl-fsm-'));
  try {
    const { state, apply } = open(dir);
    apply({ type: 'ACLTokenUpsert', tokens: [token('a1', 's1'), token('a2', 's2')] });
    apply({ type: 'ACLTokenUpsert', tokens: [token('a1', 's1-new', { Name: 'renamed' })] });
    assert.equal(state.aclTokenBySecret('s1'), null, 'an old secret no longer resolves');
    const t = state.aclTokenBySecret('s1-new')!;
    assert.equal(t.Name, 'renamed');
    assert.equal(t.CreateIndex, 1);
    assert.equal(t.ModifyIndex, 2);
    apply({ type: 'ACLTokenDelete', accessorIds: ['a2', 'missing'] });
    assert.equal(state.aclTokenBySecret('s2'), null);
    assert.deepEqual(state.aclTokens().map((x) => x.AccessorID), ['a1']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('namespaces: default always exists and stays; one holding jobs stays', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-acl-fsm-'));
  try {
    const { state, apply } = open(dir);
    assert.deepEqual(state.namespaces().map((n) => n.Name), ['default']);
    apply({ type: 'NamespaceUpsert', namespaces: [{ Name: 'prod', Description: 'p', Meta: { a: 'b' } }, { Name: 'dev', Description: '', Meta: {} }] });
    assert.deepEqual(state.namespaces().map((n) => n.Name), ['default', 'dev', 'prod']);
    apply({ type: 'JobRegister', job: testJob({ Namespace: 'prod' }), eval: null, now: 1 });
    assert.equal(apply({ type: 'NamespaceDelete', names: ['prod'] }).updated, false);
    assert.equal(apply({ type: 'NamespaceDelete', names: ['default'] }).updated, false);
    assert.equal(apply({ type: 'NamespaceDelete', names: ['dev', 'prod'] }).updated, false, 'all or nothing');
    assert.ok(state.namespace('dev'));
    assert.equal(apply({ type: 'NamespaceDelete', names: ['dev'] }).updated, true);
    assert.equal(state.namespace('dev'), null);
    assert.equal(state.namespace('default')?.Description, 'Default shared namespace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('ACL state survives a reopen and travels in Raft snapshots', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-acl-fsm-'));
  const dir2 = mkdtempSync(join(tmpdir(), 'yurt-acl-fsm-'));
  try {
    let { state, apply } = open(dir);
    apply({ type: 'ACLPolicyUpsert', policies: [{ Name: 'p', Description: 'd', Rules: 'node {\n  policy = "read"\n}\n' }] });
    apply({ type: 'ACLBootstrap', token: token('a1', 's1', { Type: 'management', Policies: [] }) });
    apply({ type: 'NamespaceUpsert', namespaces: [{ Name: 'prod', Description: '', Meta: {} }] });
    const snap = state.snapshotBytes();
    await state.close();
    ({ state, apply } = open(dir));
    assert.equal(state.aclPolicy('p')?.Description, 'd');
    assert.equal(state.aclTokenBySecret('s1')?.Type, 'management');
    await state.close();

    const other = open(dir2).state;
    other.restoreBytes(snap, 3, 1);
    assert.equal(other.aclPolicy('p')?.Rules, 'node {\n  policy = "read"\n}\n');
    assert.equal(other.aclTokenBySecret('s1')?.AccessorID, 'a1');
    assert.equal(other.aclBootstrapIndex(), 2);
    assert.ok(other.namespace('prod'));
    await other.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(dir2, { recursive: true, force: true });
  }
});
