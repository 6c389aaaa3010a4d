/**
 * Three (and four) raft servers in real processes on loopback, talking over the websocket
 * transport with durable LMDB: snapshot catch-up after a restart, refusal to start on a
 * corrupted snapshot, outage recovery with peers.json, and a membership round trip.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ProcessCluster } from './testing/process-cluster.js';
import { YurtError } from '../structs/errors.js';

const clusters: ProcessCluster[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
});

async function cluster(tuning: Parameters<typeof ProcessCluster.start>[0] = {}): Promise<ProcessCluster> {
  const c = await ProcessCluster.start(tuning);
  clusters.push(c);
  return c;
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

void describe('raft servers in separate processes', { timeout: 120_000 }, () => {
  void it('a follower killed while the log moves on catches up by snapshot; a corrupted snapshot then stops it from starting', async () => {
    const c = await cluster({ tuning: { snapshotThreshold: 50, trailingLogs: 10 } });
    const leader = await c.leader();
    const follower = [...c.servers.values()].find((s) => s !== leader)!;
    await c.put('before', 'kill');
    await follower.kill();
    let last = 0;
    for (let i = 0; i < 200; i++) last = await c.put(`k${i % 40}`, `v${i}`);
    const lst = await leader.status();
    assert.ok(lst.firstIndex > 100, `the leader compacted its log (first index ${lst.firstIndex})`);

    await follower.start();
    await c.converged(last);
    const st = await follower.status();
    assert.equal(st.stats['snapshots_installed'], 1, 'caught up by snapshot, not by replaying the log');
    assert.equal(st.keys, 41);
    assert.equal((await follower.call<{ value: string }>({ op: 'get', key: 'k39' })).value, 'v199');

    // Now damage the snapshot it installed: it must refuse to start rather than rejoin.
    assert.equal(await follower.terminate(), 0, 'SIGTERM stops the server cleanly');
    const snapDir = join(follower.dataDir, 'snapshots');
    const state = join(snapDir, readdirSync(snapDir).sort().at(-1)!, 'state.bin');
    const bytes = readFileSync(state);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x10;
    writeFileSync(state, bytes);
    await assert.rejects(follower.start(), (e: unknown) => e instanceof YurtError && e.code === 'corrupted' && e.message.includes(state));
    // The two others carry on.
    await c.put('after', 'corruption');
  });

  void it('survives losing its quorum for good through peers.json on the survivor', async () => {
    const c = await cluster();
    let last = 0;
    for (let i = 0; i < 30; i++) last = await c.put(`k${i}`, `v${i}`);
    await c.converged(last);
    const [s1, s2, s3] = ['s1', 's2', 's3'].map((id) => c.get(id));
    await s2!.kill();
    await s3!.kill();
    await assert.rejects(
      s1!.call({ op: 'put', key: 'no', value: 'quorum', timeoutMs: 500 }, 2000),
      (e: unknown) => e instanceof YurtError && ['timeout', 'not_leader', 'leadership_lost'].includes(e.code),
      'without a majority nothing commits',
    );

    await s1!.terminate();
    writeFileSync(join(s1!.dataDir, 'peers.json'), JSON.stringify([{ id: 's1', address: s1!.raftAddress, non_voter: false }], null, 2));
    await s1!.start();
    const st = await eventually('s1 to lead alone', async () => {
      const x = await s1!.status();
      return x.role === 'leader' ? x : undefined;
    });
    assert.deepEqual(st.servers.map((s) => s.id), ['s1']);
    for (let i = 0; i < 30; i++) assert.equal((await s1!.call<{ value: string }>({ op: 'get', key: `k${i}` })).value, `v${i}`);
    await s1!.call({ op: 'put', key: 'after', value: 'recovery' });

    // The cluster grows back with a fresh server.
    const s4 = await c.spawnJoiner('s4');
    await s1!.call({ op: 'addVoter', id: 's4', address: s4.raftAddress }, 20_000);
    assert.equal((await s4.call<{ value: string }>({ op: 'get', key: 'after' })).value, 'recovery');
  });

  void it('a fourth server joins as a non-voter, is promoted, then the leader removes itself', async () => {
    const c = await cluster();
    for (let i = 0; i < 50; i++) await c.put(`k${i}`, `v${i}`);
    const s4 = await c.spawnJoiner('s4');
    assert.deepEqual((await s4.status()).servers, [], 'a new server waits to be added');
    await c.onLeader({ op: 'addVoter', id: 's4', address: s4.raftAddress });
    const joined = await s4.status();
    assert.deepEqual(
      joined.servers.map((s) => `${s.id}:${s.suffrage}`).sort(),
      ['s1:voter', 's2:voter', 's3:voter', 's4:voter'],
    );
    assert.equal((await s4.call<{ value: string }>({ op: 'get', key: 'k49' })).value, 'v49');

    const { leader } = await c.onLeader((l) => ({ op: 'remove', id: l.id }));
    const next = await c.leader();
    assert.notEqual(next.id, leader.id);
    const old = await leader.status();
    assert.equal(old.role, 'follower');
    assert.equal(old.stats['suffrage'], 'none');
    await leader.kill(); // gone for good; three voters remain
    const index = await c.put('after', 'removal');
    await c.converged(index);
    assert.equal((await s4.call<{ value: string }>({ op: 'get', key: 'after' })).value, 'removal');
    assert.equal((await next.status()).servers.length, 3);
  });
});
