/**
 * The CLI against a real agent serving HTTPS with `verify_https_client`: the right CA and a
 * CLI certificate get through (from flags or from Nomad's environment variables); a missing
 * client certificate, a CA that did not sign the agent's certificate and a server name the
 * certificate does not carry each fail with a message saying what to fix, not a stack trace.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveApiTls } from './api-tls.js';
import { makeCliPki, startHttpsAgent, type CliPki, type HttpsAgentProcess } from './testdata/tls-agent.js';
import { runYurt, type YurtRun } from './testdata/run-yurt.js';

void describe('resolveApiTls', () => {
  void test('a flag beats YURT_*, which beats NOMAD_*', () => {
    const env = { NOMAD_CACERT: 'n-ca', YURT_CACERT: 'y-ca', NOMAD_CLIENT_CERT: 'n-cert', NOMAD_CLIENT_KEY: 'n-key', NOMAD_TLS_SERVER_NAME: 'n-name' };
    assert.deepEqual(resolveApiTls({ 'ca-cert': 'f-ca' }, env), { caCert: 'f-ca', caPath: undefined, clientCert: 'n-cert', clientKey: 'n-key', serverName: 'n-name', skipVerify: false });
    assert.equal(resolveApiTls({}, { NOMAD_CAPATH: 'n-dir' }).caPath, 'n-dir');
    assert.equal(resolveApiTls({ 'ca-path': 'f-dir' }, { YURT_CAPATH: 'y-dir' }).caPath, 'f-dir');
    assert.equal(resolveApiTls({}, env).caCert, 'y-ca');
    assert.equal(resolveApiTls({ 'tls-server-name': 'f-name' }, { YURT_TLS_SERVER_NAME: 'y-name' }).serverName, 'f-name');
  });

  void test('NOMAD_SKIP_VERIFY is read as Go reads a boolean', () => {
    assert.equal(resolveApiTls({}, { NOMAD_SKIP_VERIFY: '1' }).skipVerify, true);
    assert.equal(resolveApiTls({}, { NOMAD_SKIP_VERIFY: 'true' }).skipVerify, true);
    assert.equal(resolveApiTls({}, { NOMAD_SKIP_VERIFY: 'false' }).skipVerify, false);
    assert.equal(resolveApiTls({}, { YURT_SKIP_VERIFY: '0', NOMAD_SKIP_VERIFY: '1' }).skipVerify, false);
    assert.equal(resolveApiTls({ 'tls-skip-verify': true }, {}).skipVerify, true);
  });
});

void describe('yurt against an HTTPS agent that verifies client certificates', () => {
  let pki: CliPki;
  let agent: HttpsAgentProcess;

  before(async () => {
    pki = await makeCliPki();
    agent = await startHttpsAgent(pki);
  });
  after(async () => {
    await agent?.stop();
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  });

  function yurt(argv: string[], env: Record<string, string> = {}): Promise<YurtRun> {
    return runYurt(argv, { env, nowMs: Date.now() });
  }

  function assertNoStack(err: string): void {
    assert.doesNotMatch(err, /^\s+at /m, `a stack trace was printed:\n${err}`);
  }

  void test('the CA and a CLI certificate from flags get through', async () => {
    const r = await yurt(['agent-info', '-json', '-address', agent.address, '-ca-cert', pki.caFile, '-client-cert', pki.cliCert, '-client-key', pki.cliKey]);
    assert.equal(r.code, 0, r.err);
    assert.ok((JSON.parse(r.out) as { config?: unknown }).config !== undefined, r.out);
  });

  void test('the same from NOMAD_* environment variables, for node status', async () => {
    const env = { NOMAD_ADDR: agent.address, NOMAD_CACERT: pki.caFile, NOMAD_CLIENT_CERT: pki.cliCert, NOMAD_CLIENT_KEY: pki.cliKey };
    const r = await yurt(['node', 'status'], env);
    assert.equal(r.code, 0, r.err);
  });

  void test('without a client certificate the agent refuses, and the CLI says which flags to give', async () => {
    const r = await yurt(['agent-info', '-address', agent.address, '-ca-cert', pki.caFile]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^Error querying agent info: Get "https:\/\/127\.0\.0\.1:\d+\/v1\/agent\/self": remote error: tls: .*-client-cert and -client-key/m);
    assertNoStack(r.err);
  });

  void test('-ca-path: every certificate in a directory is trusted; a file holding none is an error', async () => {
    const cli = ['-client-cert', pki.cliCert, '-client-key', pki.cliKey];
    const both = join(pki.dir, 'cas-both');
    const rogueOnly = join(pki.dir, 'cas-rogue');
    const junk = join(pki.dir, 'cas-junk');
    for (const d of [both, rogueOnly, junk]) await mkdir(d, { recursive: true });
    await copyFile(pki.rogueCaFile, join(both, 'a-rogue.pem'));
    await copyFile(pki.caFile, join(both, 'b-ours.pem'));
    await copyFile(pki.rogueCaFile, join(rogueOnly, 'rogue.pem'));
    await writeFile(join(junk, 'README'), 'not a certificate\n');
    const ok = await yurt(['agent-info', '-json', '-address', agent.address, '-ca-path', both, ...cli]);
    assert.equal(ok.code, 0, ok.err);
    const env = await yurt(['node', 'status'], { NOMAD_ADDR: agent.address, NOMAD_CAPATH: both, NOMAD_CLIENT_CERT: pki.cliCert, NOMAD_CLIENT_KEY: pki.cliKey });
    assert.equal(env.code, 0, env.err);
    const rogue = await yurt(['agent-info', '-address', agent.address, '-ca-path', rogueOnly, ...cli]);
    assert.equal(rogue.code, 1);
    assert.match(rogue.err, /x509: certificate signed by unknown authority \(it was not signed by any CA in .*cas-rogue\)/);
    const bad = await yurt(['agent-info', '-address', agent.address, '-ca-path', junk, ...cli]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /Error loading CA path .*cas-junk \(-ca-path\): .*README holds no PEM certificate/);
    assertNoStack(bad.err);
  });

  void test('a CA that did not sign the agent\'s certificate fails as an unknown authority', async () => {
    const r = await yurt(['agent-info', '-address', agent.address, '-ca-cert', pki.rogueCaFile, '-client-cert', pki.cliCert, '-client-key', pki.cliKey]);
    assert.equal(r.code, 1);
    assert.match(r.err, /x509: certificate signed by unknown authority \(it was not signed by the CA in .*rogue\/yurt-agent-ca\.pem\)/);
    assertNoStack(r.err);
  });

  void test('-tls-server-name: the name the certificate must carry', async () => {
    const base = ['agent-info', '-json', '-address', agent.address, '-ca-cert', pki.caFile, '-client-cert', pki.cliCert, '-client-key', pki.cliKey];
    const good = await yurt([...base, '-tls-server-name', 'server.global.yurt']);
    assert.equal(good.code, 0, good.err);
    const bad = await yurt([...base, '-tls-server-name', 'server.eu.yurt']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /tls: failed to verify certificate: .*server\.eu\.yurt.*-tls-server-name/);
    assertNoStack(bad.err);
  });

  void test('-tls-skip-verify trusts any server certificate, but the agent still wants ours', async () => {
    const r = await yurt(['agent-info', '-json', '-address', agent.address, '-tls-skip-verify', '-client-cert', pki.cliCert, '-client-key', pki.cliKey]);
    assert.equal(r.code, 0, r.err);
  });

  void test('alloc exec runs over the same TLS settings (its websocket is a connection of its own)', async () => {
    const tls = ['-address', agent.address, '-ca-cert', pki.caFile, '-client-cert', pki.cliCert, '-client-key', pki.cliKey];
    const jobFile = join(pki.dir, 'sleeper.nomad.hcl');
    await writeFile(jobFile, 'job "sleeper" {\n  group "g" {\n    task "t" {\n      driver = "raw_exec"\n      config {\n        command = "/bin/sleep"\n        args = ["300"]\n      }\n    }\n  }\n}\n');
    const run = await yurt(['job', 'run', '-detach', ...tls, jobFile]);
    assert.equal(run.code, 0, run.err);
    let allocId = '';
    const deadline = Date.now() + 30_000;
    while (allocId === '' && Date.now() < deadline) {
      const r = await yurt(['job', 'allocs', '-json', ...tls, 'sleeper']);
      const running = r.code === 0 ? (JSON.parse(r.out) as Array<{ ID: string; ClientStatus: string }>).find((a) => a.ClientStatus === 'running') : undefined;
      if (running) allocId = running.ID;
      else await new Promise((res) => setTimeout(res, 250));
    }
    assert.notEqual(allocId, '', 'the job never got a running allocation');
    const exec = await yurt(['alloc', 'exec', '-i=false', '-t=false', ...tls, allocId, '/bin/echo', 'hello over tls']);
    assert.equal(exec.code, 0, exec.err);
    assert.match(exec.out, /hello over tls/);
    // Without the client certificate the websocket is refused like any other request.
    const refused = await yurt(['alloc', 'exec', '-i=false', '-t=false', '-address', agent.address, '-ca-cert', pki.caFile, allocId, '/bin/echo', 'x']);
    assert.equal(refused.code, 1);
    assertNoStack(refused.err);
    await yurt(['job', 'stop', '-purge', '-detach', ...tls, 'sleeper']);
  });

  void test('an unreadable certificate file is an error naming the file and the flag', async () => {
    const r = await yurt(['agent-info', '-address', agent.address, '-ca-cert', `${pki.dir}/missing.pem`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /Error reading CA certificate file .*missing\.pem \(-ca-cert\): ENOENT/);
    assertNoStack(r.err);
  });
});
