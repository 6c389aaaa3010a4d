/**
 * Mutual TLS on the RPC port, which also carries Raft: a server certificate may speak both,
 * a client certificate only RPC (it can never join Raft or pose as a server), a CLI
 * certificate neither, and a connection without a certificate is refused by TLS itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import WebSocket from 'ws';
import type { TlsConfig } from '../config/index.js';
import { loadTlsMaterial, rpcServerOptions, wsClientOptions, type TlsMaterial } from '../tls/index.js';
import { makeTestPki, type TestCert, type TestPki } from '../tls/testing/test-pki.js';
import { RpcClient } from './rpc-client.js';
import { RpcServer } from './rpc-server.js';

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(async () => {
  await pki.cleanup();
});

async function material(cert: TestCert, server: boolean): Promise<TlsMaterial> {
  const tls: TlsConfig = {
    http: false,
    rpc: true,
    caFile: pki.caFile,
    certFile: cert.certFile,
    keyFile: cert.keyFile,
    verifyServerHostname: true,
    verifyHttpsClient: false,
    tlsMinVersion: 'tls12',
  };
  const m = await loadTlsMaterial({ tls, region: 'global', server: { enabled: server } });
  assert.ok(m);
  return m;
}

/** Opens a websocket to `path` and reports whether the server let it in. */
function tryUpgrade(port: number, path: string, opts: WebSocket.ClientOptions): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, { handshakeTimeout: 5000, ...opts });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(`http ${res.statusCode ?? 0}`);
      ws.terminate();
    });
    ws.once('error', (e) => resolve(`error ${e.message}`));
  });
}

void test('mutual TLS on the RPC port: roles decide who may use RPC and Raft', async () => {
  const logger = pino({ level: 'silent' });
  const serverM = await material(pki.server, true);
  const rpc = new RpcServer(logger);
  let raftPeers = 0;
  rpc.route('/raft', (_req, socket) => {
    raftPeers++;
    socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n');
    socket.destroy();
  });
  rpc.handle('Status.Ping', (_a, conn) => ({ role: conn.role }));
  const addr = await rpc.listen('127.0.0.1', 0, { options: rpcServerOptions(serverM), region: 'global' });
  try {
    const asServer = wsClientOptions(serverM);
    const asClient = wsClientOptions(await material(pki.client, false));
    const asCli = wsClientOptions(await material(pki.cli, false));

    // RPC: a client certificate works, and the handler sees its role.
    const c = new RpcClient({ servers: [`127.0.0.1:${addr.port}`], logger, tls: asClient });
    c.start();
    assert.deepEqual(await c.call('Status.Ping', {}, 5000), { role: 'client' });
    await c.close();

    // Raft: only servers. A client certificate is refused before the transport sees it.
    assert.equal(await tryUpgrade(addr.port, '/raft?from=x&addr=y', asClient), 'http 403');
    assert.equal(raftPeers, 0);
    assert.equal(await tryUpgrade(addr.port, '/', asCli), 'http 403');
    await tryUpgrade(addr.port, '/raft?from=x&addr=y', asServer);
    assert.equal(raftPeers, 1, 'a server certificate reaches the Raft transport');

    // No certificate: the TLS handshake itself fails.
    const bare = await tryUpgrade(addr.port, '/', { ca: pki.ca, servername: 'server.global.yurt' } as WebSocket.ClientOptions);
    assert.match(bare, /^error /);
    // A server certificate from another CA is not trusted either.
    const rogue = await tryUpgrade(addr.port, '/', { ca: pki.ca, cert: pki.rogueServer.cert, key: pki.rogueServer.key, servername: 'server.global.yurt' } as WebSocket.ClientOptions);
    assert.match(rogue, /^error /);
  } finally {
    await rpc.close();
  }
});

void test('verify_server_hostname: a client certificate cannot pose as a server', async () => {
  const logger = pino({ level: 'silent' });
  // A listener presenting a *client* certificate, as a rogue client would.
  const impostor = new RpcServer(logger);
  impostor.handle('Status.Ping', () => ({ ok: true }));
  const addr = await impostor.listen('127.0.0.1', 0, { options: rpcServerOptions(await material(pki.client, false)), region: 'global' });
  try {
    const dialer = wsClientOptions(await material(pki.client, false));
    const r = await tryUpgrade(addr.port, '/', dialer);
    assert.match(r, /does not name server\.global\.yurt|ERR_TLS_CERT_ALTNAME_INVALID|error/);
    assert.notEqual(r, 'open');
  } finally {
    await impostor.close();
  }
});
