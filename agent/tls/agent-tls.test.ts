import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { request as httpsRequest, createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect, createServer as createTlsServer, type ConnectionOptions, type Server as TlsServer, type TlsOptions } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import type { TlsConfig } from '../config/agent-config.js';
import { ValidationError } from '../../structs/errors.js';
import { allowRoles, httpsServerOptions, loadTlsMaterial, peerRole, rpcClientOptions, rpcServerOptions, wsClientOptions, type TlsMaterial } from './index.js';
import { makeTestPki, type TestCert, type TestPki } from './testing/test-pki.js';

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(async () => {
  await pki.cleanup();
});

function tlsConfig(cert: TestCert, over: Partial<TlsConfig> = {}): TlsConfig {
  return {
    http: true,
    rpc: true,
    caFile: pki.caFile,
    certFile: cert.certFile,
    keyFile: cert.keyFile,
    verifyServerHostname: true,
    verifyHttpsClient: false,
    tlsMinVersion: 'tls12',
    ...over,
  };
}

async function material(cert: TestCert, over: Partial<TlsConfig> = {}, server = false): Promise<TlsMaterial> {
  const m = await loadTlsMaterial({ tls: tlsConfig(cert, over), region: 'global', server: { enabled: server } });
  assert.ok(m !== null);
  return m;
}

async function loadErrors(tls: TlsConfig, server: boolean, now?: Date): Promise<string[]> {
  try {
    await loadTlsMaterial({ tls, region: 'global', server: { enabled: server } }, now);
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.errors.map((x) => `${x.path}: ${x.message}`);
  }
  assert.fail('expected the TLS files to be refused');
}

/** A TLS listener that answers each connection with the role it read from the peer. */
async function roleEcho(opts: TlsOptions): Promise<{ server: TlsServer; port: number }> {
  const server = createTlsServer(opts, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(String(peerRole(socket, 'global')));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Dials and reads what the listener said; `error` when the handshake or read failed. */
function dial(port: number, opts: ConnectionOptions): Promise<{ said: string; error: string | undefined; message?: string }> {
  return new Promise((resolve) => {
    let said = '';
    let error: string | undefined;
    let message: string | undefined;
    const socket = connect({ host: '127.0.0.1', port, ...opts });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (said += d));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
      message = e.message;
    });
    socket.on('close', () => resolve({ said, error, ...(message !== undefined ? { message } : {}) }));
  });
}

function close(server: TlsServer | HttpsServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

void test('loadTlsMaterial: off when neither http nor rpc; reads a matching set', async () => {
  assert.equal(await loadTlsMaterial({ tls: tlsConfig(pki.server, { http: false, rpc: false }), region: 'global', server: { enabled: true } }), null);
  const m = await material(pki.server, {}, true);
  assert.deepEqual(m.cert, pki.server.cert);
  assert.deepEqual(m.key, pki.server.key);
  assert.deepEqual(m.ca, pki.ca);
  assert.equal(m.certificate.subject, 'CN=server.global.yurt');
});

void test('loadTlsMaterial: every problem at once, against its field', async () => {
  const missing = await loadErrors(tlsConfig(pki.server, { caFile: join(pki.dir, 'nope-ca.pem'), certFile: join(pki.dir, 'nope.pem'), keyFile: pki.dir }), true);
  assert.deepEqual(missing, [
    `tls.ca_file: cannot read ${join(pki.dir, 'nope-ca.pem')}: no such file`,
    `tls.cert_file: cannot read ${join(pki.dir, 'nope.pem')}: no such file`,
    `tls.key_file: cannot read ${pki.dir}: is a directory`,
  ]);

  assert.deepEqual(await loadErrors(tlsConfig(pki.server, { caFile: '', certFile: '' }), false), [
    'tls.cert_file: is required when tls.http or tls.rpc is enabled',
    "tls.ca_file: is required when tls.rpc is enabled: peers' certificates are checked against it",
  ]);
  assert.deepEqual(await loadErrors(tlsConfig(pki.server, { rpc: false, verifyHttpsClient: true, caFile: '' }), false), [
    "tls.ca_file: is required when tls.verify_https_client is enabled: peers' certificates are checked against it",
  ]);
  // HTTPS alone, without client certificates, needs no CA.
  assert.ok(await loadTlsMaterial({ tls: tlsConfig(pki.client, { rpc: false, caFile: '' }), region: 'global', server: { enabled: false } }));

  const wrongKey = await loadErrors(tlsConfig(pki.server, { keyFile: pki.client.keyFile }), true);
  assert.deepEqual(wrongKey, [`tls.key_file: ${pki.client.keyFile} is not the key of the certificate in ${pki.server.certFile}`]);

  const foreign = await loadErrors(tlsConfig(pki.rogueServer), true);
  assert.equal(foreign.length, 1);
  assert.match(foreign[0]!, /^tls\.cert_file: the certificate in .*rogue\/global-server-yurt\.pem \(issuer "CN=Yurt Agent CA \d+, O=Yurt"\) was not signed by the CA in .*\/yurt-agent-ca\.pem$/);

  const clientAsServer = await loadErrors(tlsConfig(pki.client), true);
  assert.equal(clientAsServer.length, 1);
  assert.match(clientAsServer[0]!, /^tls\.cert_file: a server's certificate must name server\.global\.yurt, but the one in .* names DNS:client\.global\.yurt, DNS:localhost, IP Address:127\.0\.0\.1; .*yurt tls cert create -server -region global/);
  assert.match((await loadErrors(tlsConfig(pki.euServer), true))[0]!, /must name server\.global\.yurt, but the one in .* names DNS:server\.eu\.yurt/);
  assert.match((await loadErrors(tlsConfig(pki.cnOnlyServer), true))[0]!, /must name server\.global\.yurt, but the one in .* names the subject "CN=server\.global\.yurt"/);
  assert.match((await loadErrors(tlsConfig(pki.wildcardServer), true))[0]!, /must name server\.global\.yurt, but the one in .* names DNS:\*\.global\.yurt/);
  // A client agent may hold a client certificate.
  assert.ok(await loadTlsMaterial({ tls: tlsConfig(pki.client), region: 'global', server: { enabled: false } }));

  const notPem = await loadErrors(tlsConfig(pki.server, { certFile: pki.server.keyFile, caFile: pki.server.keyFile }), true);
  assert.deepEqual(notPem, [`tls.ca_file: ${pki.server.keyFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, `tls.cert_file: ${pki.server.keyFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`]);
  const garbageKey = join(pki.dir, 'garbage-key.pem');
  await writeFile(garbageKey, '-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n');
  assert.match((await loadErrors(tlsConfig(pki.server, { keyFile: garbageKey }), true))[0]!, /^tls\.key_file: .*garbage-key\.pem holds no PEM private key we can read/);

  const later = new Date(Date.now() + 400 * 86_400_000);
  assert.match((await loadErrors(tlsConfig(pki.server), true, later))[0]!, /^tls\.cert_file: the certificate in .* expired on /);
});

void test('RPC listener: each role is told apart; no certificate, a foreign CA and another region get nothing', async () => {
  const { server, port } = await roleEcho(rpcServerOptions(await material(pki.server, {}, true)));
  try {
    for (const [cert, role] of [[pki.server, 'server'], [pki.client, 'client'], [pki.cli, 'cli']] as const) {
      const r = await dial(port, rpcClientOptions(await material(cert)));
      assert.equal(r.error, undefined, `${role}: ${r.error}`);
      assert.equal(r.said, role);
    }
    // Same CA, other region: the handshake succeeds but the certificate grants no role here.
    const eu = await dial(port, rpcClientOptions(await material(pki.euServer)));
    assert.equal(eu.said, 'null');
    // Nor does a role named only in the subject CN, or through a wildcard.
    for (const odd of [pki.cnOnlyServer, pki.wildcardServer]) {
      const r = await dial(port, rpcClientOptions(await material(odd, { rpc: false })));
      assert.equal(r.said, 'null', odd.certFile);
    }

    const base = rpcClientOptions(await material(pki.client));
    const noCert = await dial(port, { ...base, cert: undefined, key: undefined });
    // The listener answers every connection it accepts (with "null" when there is no role),
    // so silence means the handshake refused it.
    assert.equal(noCert.said, '', 'no certificate: refused in the handshake');

    const rogue = await dial(port, { ...base, cert: pki.rogueServer.cert, key: pki.rogueServer.key });
    assert.equal(rogue.said, '', 'a certificate from another CA: refused in the handshake');
  } finally {
    await close(server);
  }
});

void test('verify_server_hostname stops a client certificate posing as a server', async () => {
  // A listener presenting a client's certificate: signed by our CA, but not a server.
  const { server, port } = await roleEcho(rpcServerOptions(await material(pki.client)));
  try {
    const verified = await dial(port, rpcClientOptions(await material(pki.client, { verifyServerHostname: true })));
    assert.equal(verified.said, '');
    assert.equal(verified.error, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.match(verified.message ?? '', /does not name server\.global\.yurt \(it names DNS:client\.global\.yurt, DNS:localhost, IP Address:127\.0\.0\.1\)/);
    // Without the check, any certificate from our CA is taken for a server (Nomad's behaviour).
    const unverified = await dial(port, rpcClientOptions(await material(pki.client, { verifyServerHostname: false })));
    assert.equal(unverified.error, undefined);
    assert.equal(unverified.said, 'client');
  } finally {
    await close(server);
  }
  // Names the CLI never writes do not pass either: a CN without DNS names, a wildcard.
  for (const odd of [pki.cnOnlyServer, pki.wildcardServer]) {
    const listener = await roleEcho(rpcServerOptions(await material(odd, { rpc: false })));
    try {
      const r = await dial(listener.port, rpcClientOptions(await material(pki.client)));
      assert.equal(r.error, 'ERR_TLS_CERT_ALTNAME_INVALID', odd.certFile);
    } finally {
      await close(listener.server);
    }
  }
  // A real server passes the check; one from another CA never does, checked or not.
  const real = await roleEcho(rpcServerOptions(await material(pki.server, {}, true)));
  const rogue = await roleEcho({ ...rpcServerOptions(await material(pki.server, {}, true)), cert: pki.rogueServer.cert, key: pki.rogueServer.key });
  try {
    assert.equal((await dial(real.port, rpcClientOptions(await material(pki.client)))).said, 'client');
    const r = await dial(rogue.port, rpcClientOptions(await material(pki.client, { verifyServerHostname: false })));
    assert.equal(r.said, '');
    assert.match(r.error ?? '', /CERT|SIGNATURE|ISSUER|SELF_SIGNED/);
  } finally {
    await close(real.server);
    await close(rogue.server);
  }
});

void test('tls_min_version: a tls13 listener refuses a TLS 1.2 dialer', async () => {
  const { server, port } = await roleEcho(rpcServerOptions(await material(pki.server, { tlsMinVersion: 'tls13' }, true)));
  try {
    const old = await dial(port, { ...rpcClientOptions(await material(pki.client)), maxVersion: 'TLSv1.2' });
    assert.equal(old.said, '');
    assert.notEqual(old.error, undefined);
    assert.equal((await dial(port, rpcClientOptions(await material(pki.client)))).said, 'client');
  } finally {
    await close(server);
  }
});

function httpsGet(port: number, opts: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/v1/status/leader', servername: 'localhost', ...opts }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

void test('HTTPS: client certificates are demanded only with verify_https_client', async () => {
  for (const verify of [false, true]) {
    const server = createHttpsServer(httpsServerOptions(await material(pki.server, { verifyHttpsClient: verify }, true)), (_req, res) => res.end('"server-1"'));
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const anonymous = await httpsGet(port, { ca: pki.ca });
      if (verify) assert.ok('error' in anonymous, 'no client certificate: refused');
      else assert.deepEqual(anonymous, { status: 200 });
      assert.deepEqual(await httpsGet(port, { ca: pki.ca, cert: pki.cli.cert, key: pki.cli.key }), { status: 200 });
      const rogue = await httpsGet(port, { ca: pki.ca, cert: pki.rogueServer.cert, key: pki.rogueServer.key });
      if (verify) assert.ok('error' in rogue, 'a certificate from another CA: refused');
    } finally {
      server.closeAllConnections();
      await close(server);
    }
  }
});

void test('allowRoles: a client certificate cannot open the servers-only (Raft) websocket', async () => {
  const https = createHttpsServer(rpcServerOptions(await material(pki.server, {}, true)));
  https.on('tlsClientError', () => {});
  const wss = new WebSocketServer({ server: https, path: '/raft', verifyClient: allowRoles('global', ['server']) });
  wss.on('connection', (ws) => ws.send('welcome'));
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  const port = (https.address() as AddressInfo).port;
  const open = (cert: TestCert): Promise<string> =>
    material(cert).then(
      (m) =>
        new Promise((resolve) => {
          const ws = new WebSocket(`wss://127.0.0.1:${port}/raft`, wsClientOptions(m));
          ws.on('message', (d: Buffer) => {
            resolve(d.toString());
            ws.close();
          });
          ws.on('unexpected-response', (_req, res) => {
            resolve(`refused ${res.statusCode}`);
            ws.terminate();
          });
          ws.on('error', (e) => resolve(`error ${e.message}`));
        }),
    );
  try {
    assert.equal(await open(pki.server), 'welcome');
    assert.equal(await open(pki.client), 'refused 401');
    assert.equal(await open(pki.cli), 'refused 401');
    assert.equal(await open(pki.euServer), 'refused 401');
  } finally {
    wss.close();
    https.closeAllConnections();
    await close(https);
  }
});
