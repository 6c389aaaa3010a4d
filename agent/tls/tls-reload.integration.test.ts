/**
 * SIGHUP reloads the agent's certificates: a real agent process serving HTTPS and mutual-TLS
 * RPC with server certificate A; A's files are replaced by certificate B (same CA, another
 * key and serial) and the agent gets SIGHUP; new connections on both ports then see B. Files
 * that do not pass the checks are logged as an error and the agent keeps serving B.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, test } from 'node:test';
import { eventually, freePort, startAgent, type AgentProcess } from '../testing/agent-process.js';
import { issueServerCert, makeTestPki, type TestCert, type TestPki } from './testing/test-pki.js';

let pki: TestPki;
let certB: TestCert;
let work = '';
let agent: AgentProcess | null = null;
let httpPort = 0;
let rpcPort = 0;

/** The serial number of the certificate a fresh TLS connection to `port` is shown. */
function servedSerial(port: number, clientCert?: TestCert): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: pki.ca,
      servername: 'server.global.yurt',
      ...(clientCert ? { cert: clientCert.cert, key: clientCert.key } : {}),
    });
    socket.once('secureConnect', () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial.toUpperCase());
    });
    socket.once('error', reject);
  });
}

const serialOf = (c: TestCert): string => new X509Certificate(c.cert).serialNumber.toUpperCase();

before(async () => {
  pki = await makeTestPki();
  certB = await issueServerCert(pki, 'rotated');
  work = await mkdtemp(join(tmpdir(), 'yurt-tls-reload-'));
  await copyFile(pki.server.certFile, join(work, 'agent.pem'));
  await copyFile(pki.server.keyFile, join(work, 'agent-key.pem'));
  const config = join(work, 'tls.hcl');
  await writeFile(
    config,
    `tls {\n  http = true\n  rpc = true\n  ca_file = "${pki.caFile}"\n  cert_file = "${join(work, 'agent.pem')}"\n  key_file = "${join(work, 'agent-key.pem')}"\n}\n`,
  );
  httpPort = await freePort();
  rpcPort = await freePort();
  agent = await startAgent(['-server', '-bootstrap-expect', '1', '-data-dir', join(work, 'data'), '-config', config], { httpPort, rpcPort });
});

after(async () => {
  await agent?.stop();
  await rm(work, { recursive: true, force: true });
  await pki?.cleanup();
});

void test('SIGHUP: new connections get the new certificate; bad files keep the old one', { timeout: 60_000 }, async () => {
  assert.notEqual(serialOf(certB), serialOf(pki.server));
  assert.equal(await servedSerial(httpPort), serialOf(pki.server));
  assert.equal(await servedSerial(rpcPort, pki.client), serialOf(pki.server));

  await copyFile(certB.certFile, join(work, 'agent.pem'));
  await copyFile(certB.keyFile, join(work, 'agent-key.pem'));
  agent!.proc.kill('SIGHUP');
  await eventually(async () => (agent!.output().includes('TLS certificates reloaded') ? true : undefined), 20_000, 'the reload log line');
  assert.equal(await servedSerial(httpPort), serialOf(certB));
  assert.equal(await servedSerial(rpcPort, pki.client), serialOf(certB));

  // A key that is not the certificate's: refused, logged, and B stays in service.
  await copyFile(pki.server.keyFile, join(work, 'agent-key.pem'));
  agent!.proc.kill('SIGHUP');
  await eventually(async () => (agent!.output().includes('TLS reload failed') ? true : undefined), 20_000, 'the reload error');
  assert.match(agent!.output(), /TLS reload failed.*is not the key of the certificate/);
  assert.equal(agent!.proc.exitCode, null, 'the agent keeps running');
  assert.equal(await servedSerial(httpPort), serialOf(certB));
  assert.equal(await servedSerial(rpcPort, pki.client), serialOf(certB));
});
