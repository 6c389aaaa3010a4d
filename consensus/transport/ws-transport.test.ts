import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { Message } from '../core/messages.js';
import { FaultyTransport } from './faulty-transport.js';
import { parseAddress, WsTransport } from './ws-transport.js';
import type { TlsOptions } from './ws-transport.js';

const open: WsTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

const tlsDir = join(import.meta.dirname, '..', 'testdata', 'tls');
const pem = (name: string) => readFileSync(join(tlsDir, name));

async function transport(id: string, tls?: TlsOptions, port = 0): Promise<WsTransport> {
  const t = await WsTransport.listen({ id, address: `127.0.0.1:${port}`, listen: { host: '127.0.0.1', port }, backoff: { minMs: 10, maxMs: 50 }, ...(tls ? { tls } : {}) });
  open.push(t);
  return t;
}

/** Two transports that know each other's (real) addresses. */
async function pair(tlsA?: TlsOptions, tlsB?: TlsOptions): Promise<[WsTransport, WsTransport]> {
  const a = await transport('a', tlsA);
  const b = await transport('b', tlsB);
  a.setPeers([{ id: 'b', address: b.listenAddress() }]);
  b.setPeers([{ id: 'a', address: a.listenAddress() }]);
  return [a, b];
}

const hb = (from: string, to: string, commit: number): Message => ({ type: 'heartbeat', from, to, term: 1, commit, ctx: 0 });

function collect(t: { onMessage(h: (m: Message) => void): void }): Message[] {
  const got: Message[] = [];
  t.onMessage((m) => got.push(m));
  return got;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

void describe('WsTransport', () => {
  void it('delivers messages in order, entry bytes intact, batching a burst into few frames', async () => {
    const [a, b] = await pair();
    const got = collect(b);
    const data = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
    a.send('b', { type: 'app', from: 'a', to: 'b', term: 3, prevIndex: 1, prevTerm: 1, commit: 1, entries: [{ index: 2, term: 3, type: 'normal', data }] });
    for (let i = 0; i < 500; i++) a.send('b', hb('a', 'b', i));
    await waitFor('all messages', () => got.length === 501);
    const first = got[0]!;
    assert.equal(first.type, 'app');
    assert.deepEqual(first.type === 'app' ? [...first.entries[0]!.data] : [], [...data]);
    assert.deepEqual(got.slice(1).map((m) => (m.type === 'heartbeat' ? m.commit : -1)), Array.from({ length: 500 }, (_, i) => i));
    assert.ok(a.stats().framesSent < 20, `${a.stats().framesSent} frames for 501 messages`);
  });

  void it('answers a dialer it knows only from the dial (a joining server has no configuration yet)', async () => {
    const b = await transport('b');
    const aPort = (await transport('probe')).listenAddress();
    await open.pop()!.close(); // free a port number for a
    const a = await WsTransport.listen({ id: 'a', address: aPort, backoff: { minMs: 10, maxMs: 50 } });
    open.push(a);
    a.setPeers([{ id: 'b', address: b.listenAddress() }]);
    const gotA = collect(a);
    const gotB = collect(b);
    a.send('b', hb('a', 'b', 1));
    await waitFor('b to hear from a', () => gotB.length === 1);
    b.send('a', { type: 'heartbeatResp', from: 'b', to: 'a', term: 1, ctx: 0 });
    await waitFor('a to hear back', () => gotA.length === 1);
  });

  void it('redials with backoff after the peer restarts, dropping what it could not send', async () => {
    const a = await transport('a');
    let b = await transport('b');
    const port = parseAddress(b.listenAddress()).port;
    a.setPeers([{ id: 'b', address: `127.0.0.1:${port}` }]);
    let got = collect(b);
    a.send('b', hb('a', 'b', 1));
    await waitFor('first delivery', () => got.length === 1);
    await b.close();
    open.splice(open.indexOf(b), 1);
    for (let i = 0; i < 20; i++) {
      a.send('b', hb('a', 'b', 2));
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(a.stats().dropped > 0, 'messages to a dead peer are dropped');
    b = await transport('b', undefined, port);
    got = collect(b);
    await waitFor('delivery after the restart', () => {
      a.send('b', hb('a', 'b', 3));
      return got.some((m) => m.type === 'heartbeat' && m.commit === 3);
    });
    assert.ok(a.stats().dials >= 3, `${a.stats().dials} dials`);
  });

  void it('ignores frames that are not msgpack message arrays, and messages claiming another sender', async () => {
    const [a, b] = await pair();
    const got = collect(b);
    a.send('b', { ...hb('a', 'b', 1), from: 'mallory' });
    a.send('b', hb('a', 'b', 2));
    await waitFor('the genuine one', () => got.length === 1);
    assert.equal(b.stats().badFrames, 1);
    const { WebSocket } = await import('ws');
    const raw = new WebSocket(`ws://${b.listenAddress()}/raft?from=x&addr=x:1`);
    await new Promise((r) => raw.once('open', r));
    raw.send(Buffer.from([0xc1, 0xff, 0x00]));
    raw.send(Buffer.from('"not an array"'));
    await waitFor('two bad frames more', () => b.stats().badFrames === 3);
    raw.close();
  });

  void it('speaks TLS with mutual certificates, and refuses a peer the CA did not sign', async () => {
    const good: TlsOptions = { ca: pem('ca.pem'), cert: pem('server.pem'), key: pem('server-key.pem') };
    const [a, b] = await pair(good, good);
    const got = collect(b);
    a.send('b', hb('a', 'b', 7));
    await waitFor('a TLS delivery', () => got.length === 1);

    const rogue = await transport('r', { ca: pem('ca.pem'), cert: pem('rogue.pem'), key: pem('rogue-key.pem') });
    rogue.setPeers([{ id: 'b', address: b.listenAddress() }]);
    for (let i = 0; i < 10; i++) {
      rogue.send('b', hb('r', 'b', 9));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(got.length, 1, 'the rogue client certificate is refused');
    const plain = await transport('p');
    plain.setPeers([{ id: 'b', address: b.listenAddress() }]);
    plain.send('b', hb('p', 'b', 9));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got.length, 1, 'so is a client without TLS');
  });
});

void describe('FaultyTransport', () => {
  async function faulty(): Promise<{ a: FaultyTransport; b: FaultyTransport; gotA: Message[]; gotB: Message[] }> {
    const [wa, wb] = await pair();
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const a = new FaultyTransport(wa, rnd);
    const b = new FaultyTransport(wb, rnd);
    return { a, b, gotA: collect(a), gotB: collect(b) };
  }

  void it('partitions named peers in both directions, and heals', async () => {
    const { a, b, gotA, gotB } = await faulty();
    a.setFaults({ partitioned: ['b'] });
    a.send('b', hb('a', 'b', 1));
    b.send('a', { type: 'heartbeatResp', from: 'b', to: 'a', term: 1, ctx: 0 });
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([gotA.length, gotB.length], [0, 0], 'cut both ways though only a was told');
    assert.equal(a.stats().blocked, 2);
    a.setFaults({});
    a.send('b', hb('a', 'b', 2));
    await waitFor('delivery after healing', () => gotB.length === 1);
  });

  void it('drops, duplicates, delays and reorders at the rates asked', async () => {
    const { a, gotB } = await faulty();
    a.setFaults({ all: { drop: 0.3, duplicate: 0.2 } });
    for (let i = 0; i < 1000; i++) a.send('b', hb('a', 'b', i));
    await waitFor('deliveries', () => gotB.length >= 850 - 50);
    await new Promise((r) => setTimeout(r, 50));
    const st = a.stats();
    assert.ok(st.dropped > 230 && st.dropped < 370, `dropped ${st.dropped}`);
    assert.ok(st.duplicated > 100 && st.duplicated < 180, `duplicated ${st.duplicated}`);
    assert.equal(gotB.length, 1000 - st.dropped + st.duplicated);

    gotB.length = 0;
    a.setFaults({ peers: { b: { delayMs: 40, reorder: 0.5 } } });
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) a.send('b', hb('a', 'b', i));
    await waitFor('delayed deliveries', () => gotB.length === 50);
    assert.ok(Date.now() - t0 >= 40, 'delayed');
    const order = gotB.map((m) => (m.type === 'heartbeat' ? m.commit : -1));
    assert.notDeepEqual(order, [...order].sort((x, y) => x - y), 'some overtook others');
    assert.deepEqual([...order].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i), 'none lost');
  });
});
