/**
 * A real agent with `tls { http = true, rpc = true }`: its client reaches its server over
 * mutual-TLS RPC (the node registers), the HTTP API answers only over HTTPS with a certificate
 * from the CA, and plaintext on either port gets nowhere.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { makeTestPki, type TestPki } from './tls/testing/test-pki.js';
import { eventually, freePort, startAgent, type AgentProcess } from './testing/agent-process.js';

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(async () => {
  await pki.cleanup();
});

function httpsGet(port: number, path: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, servername: 'localhost', method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

void test('an agent with TLS on: mutual TLS RPC between client and server, HTTPS API, no plaintext', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-tls-agent-'));
  const config = join(dir, 'tls.hcl');
  writeFileSync(
    config,
    `tls {\n  http = true\n  rpc = true\n  ca_file = "${pki.caFile}"\n  cert_file = "${pki.server.certFile}"\n  key_file = "${pki.server.keyFile}"\n  verify_server_hostname = true\n}\n`,
  );
  const httpPort = await freePort();
  const rpcPort = await freePort();
  let agent: AgentProcess | null = null;
  try {
    agent = await startAgent(['-dev', '-data-dir', join(dir, 'data'), '-config', config], { httpPort, rpcPort });
    // The client registered: its RPC to the server went over mutual TLS.
    await eventually(async () => {
      const r = await httpsGet(httpPort, '/v1/nodes', pki.ca);
      return r.status === 200 && (JSON.parse(r.body) as unknown[]).length === 1 ? true : undefined;
    }, 30_000, 'the node registered over mutual TLS');

    // Plain HTTP on the HTTPS port is not served.
    const plain = await fetch(`http://127.0.0.1:${httpPort}/v1/nodes`).then(
      (r) => `status ${r.status}`,
      (e: Error) => `error ${e.message}`,
    );
    assert.doesNotMatch(plain, /status 200/);

    // Plaintext websocket on the RPC port: the TLS listener never upgrades it.
    const ws = await new Promise<string>((resolve) => {
      const s = new WebSocket(`ws://127.0.0.1:${rpcPort}/`, { handshakeTimeout: 3000 });
      s.once('open', () => {
        s.close();
        resolve('open');
      });
      s.once('error', (e) => resolve(`error ${e.message}`));
    });
    assert.match(ws, /^error /);
  } catch (e) {
    if (agent) process.stderr.write(agent.output().slice(-4000));
    throw e;
  } finally {
    await agent?.stop('SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }
});
