import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../run-cli.js';
import { captureIo } from '../testdata/capture-io.js';

const DAY = 86_400_000;

async function yurt(cwd: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({ cwd, nowMs: Date.now() });
  const code = await runCli(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'yurt-tls-cli-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function cert(dir: string, name: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(join(dir, name)));
}

async function mode(dir: string, name: string): Promise<number> {
  return (await stat(join(dir, name))).mode & 0o777;
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

void test('tls ca create writes a self-signed P-256 CA, its key owner-only, and never overwrites it', async () => {
  await withDir(async (dir) => {
    const r = await yurt(dir, 'tls', 'ca', 'create', '-days', '10');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '==> CA certificate saved to: yurt-agent-ca.pem\n==> CA certificate key saved to: yurt-agent-ca-key.pem\n');
    const ca = await cert(dir, 'yurt-agent-ca.pem');
    assert.equal(ca.ca, true);
    assert.match(ca.subject, /^CN=Yurt Agent CA \d+\nO=Yurt$/);
    assert.equal(ca.issuer, ca.subject, 'self-signed');
    assert.ok(ca.verify(ca.publicKey));
    const days = (Date.parse(ca.validTo) - Date.now()) / DAY;
    assert.ok(days > 9.9 && days <= 10, `valid for ${days} days`);
    assert.ok(Date.parse(ca.validFrom) <= Date.now(), 'valid from now');
    const key = createPrivateKey(await readFile(join(dir, 'yurt-agent-ca-key.pem')));
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(createPublicKey(key).export({ format: 'der', type: 'spki' }).equals(ca.publicKey.export({ format: 'der', type: 'spki' })));
    assert.equal(await mode(dir, 'yurt-agent-ca-key.pem'), 0o600);

    const again = await yurt(dir, 'tls', 'ca', 'create');
    assert.equal(again.code, 1);
    assert.match(again.err, /yurt-agent-ca\.pem already exists/);
    assert.equal((await cert(dir, 'yurt-agent-ca.pem')).serialNumber, ca.serialNumber, 'the CA is intact');

    const named = await yurt(dir, 'tls', 'ca', 'create', '-domain', 'acme', '-common-name', 'Acme Root');
    assert.equal(named.code, 0, named.err);
    assert.equal((await cert(dir, 'acme-agent-ca.pem')).subject, 'CN=Acme Root\nO=Yurt');
  });
});

void test('tls cert create -server|-client|-cli: role names, SANs, issuer and validity as nomad tls', async () => {
  await withDir(async (dir) => {
    assert.equal((await yurt(dir, 'tls', 'ca', 'create')).code, 0);
    const ca = await cert(dir, 'yurt-agent-ca.pem');

    const server = await yurt(dir, 'tls', 'cert', 'create', '-server');
    assert.equal(server.code, 0, server.err);
    assert.match(server.out, /WARNING: Server Certificates grants authority/);
    assert.match(server.out, /==> Server Certificate saved to global-server-yurt\.pem\n==> Server Certificate key saved to global-server-yurt-key\.pem\n$/);
    const s = await cert(dir, 'global-server-yurt.pem');
    assert.equal(s.subject, 'CN=server.global.yurt');
    assert.equal(s.subjectAltName, 'DNS:server.global.yurt, DNS:localhost, IP Address:127.0.0.1');
    assert.equal(s.issuer, ca.subject);
    assert.ok(s.checkIssued(ca) && s.verify(ca.publicKey), 'signed by the CA');
    assert.equal(s.ca, false);
    assert.equal(s.checkHost('server.global.yurt'), 'server.global.yurt');
    assert.deepEqual(s.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], 'server and client auth');
    const days = (Date.parse(s.validTo) - Date.now()) / DAY;
    assert.ok(days > 364.9 && days <= 365, `valid for ${days} days`);
    assert.equal(await mode(dir, 'global-server-yurt-key.pem'), 0o600);
    const key = createPrivateKey(await readFile(join(dir, 'global-server-yurt-key.pem')));
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(s.checkPrivateKey(key), 'the key belongs to the certificate');

    const client = await yurt(dir, 'tls', 'cert', 'create', '-client', '-region', 'eu', '-days', '30', '-additional-dnsname', 'node1.example.com', '-additional-ipaddress', '10.1.2.3', '-additional-ipaddress', '::1');
    assert.equal(client.code, 0, client.err);
    assert.doesNotMatch(client.out, /WARNING/);
    const c = await cert(dir, 'eu-client-yurt.pem');
    assert.equal(c.subjectAltName, 'DNS:client.eu.yurt, DNS:localhost, DNS:node1.example.com, IP Address:127.0.0.1, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1');
    const cdays = (Date.parse(c.validTo) - Date.now()) / DAY;
    assert.ok(cdays > 29.9 && cdays <= 30);

    const cli = await yurt(dir, 'tls', 'cert', 'create', '-cli');
    assert.equal(cli.code, 0, cli.err);
    const k = await cert(dir, 'global-cli-yurt.pem');
    assert.equal(k.subjectAltName, 'DNS:cli.global.yurt, DNS:localhost');
    assert.deepEqual(k.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'client auth only');

    if (hasOpenssl()) {
      const verified = execFileSync('openssl', ['verify', '-CAfile', 'yurt-agent-ca.pem', 'global-server-yurt.pem', 'eu-client-yurt.pem', 'global-cli-yurt.pem'], { cwd: dir, encoding: 'utf8' });
      assert.equal(verified, 'global-server-yurt.pem: OK\neu-client-yurt.pem: OK\nglobal-cli-yurt.pem: OK\n');
      const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', 'global-server-yurt.pem'], { cwd: dir, encoding: 'utf8' });
      assert.match(text, /ASN1 OID: prime256v1/);
      assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
      assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    }
  });
});

void test('tls cert create: clear errors for a missing CA, a foreign key, bad names, and role flags', async () => {
  await withDir(async (dir) => {
    const none = await yurt(dir, 'tls', 'cert', 'create');
    assert.equal(none.code, 2);
    assert.match(none.err, /^Exactly one of -server, -client or -cli is required\n/);
    const two = await yurt(dir, 'tls', 'cert', 'create', '-server', '-client');
    assert.equal(two.code, 2);

    const missing = await yurt(dir, 'tls', 'cert', 'create', '-client');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read the CA file yurt-agent-ca\.pem: no such file/);

    assert.equal((await yurt(dir, 'tls', 'ca', 'create')).code, 0);
    assert.equal((await yurt(dir, 'tls', 'ca', 'create', '-domain', 'other')).code, 0);
    const foreign = await yurt(dir, 'tls', 'cert', 'create', '-client', '-key', 'other-agent-ca-key.pem');
    assert.equal(foreign.code, 1);
    assert.match(foreign.err, /the CA key does not belong to the CA certificate/);

    const notCa = await yurt(dir, 'tls', 'cert', 'create', '-client', '-ca', 'yurt-agent-ca-key.pem');
    assert.equal(notCa.code, 1);
    assert.match(notCa.err, /the CA file is not a PEM certificate/);

    const badIp = await yurt(dir, 'tls', 'cert', 'create', '-client', '-additional-ipaddress', '300.1.1.1');
    assert.equal(badIp.code, 1);
    assert.match(badIp.err, /-additional-ipaddress "300\.1\.1\.1" is not an IP address/);
    const badDns = await yurt(dir, 'tls', 'cert', 'create', '-client', '-additional-dnsname', 'a b');
    assert.match(badDns.err, /-additional-dnsname "a b" is not a DNS name/);
    const badRegion = await yurt(dir, 'tls', 'cert', 'create', '-client', '-region', 'eu.west');
    assert.match(badRegion.err, /-region must be a DNS label/);
    const badDays = await yurt(dir, 'tls', 'cert', 'create', '-client', '-days', '0');
    assert.match(badDays.err, /-days must be a whole number of days/);

    assert.equal((await yurt(dir, 'tls', 'cert', 'create', '-client')).code, 0);
    const dup = await yurt(dir, 'tls', 'cert', 'create', '-client');
    assert.equal(dup.code, 1);
    assert.match(dup.err, /global-client-yurt\.pem already exists/);
  });
});

void test('tls ca info / tls cert info show serial, issuer, subject, expiry and names', async () => {
  await withDir(async (dir) => {
    assert.equal((await yurt(dir, 'tls', 'ca', 'create', '-common-name', 'Test CA')).code, 0);
    assert.equal((await yurt(dir, 'tls', 'cert', 'create', '-server', '-additional-ipaddress', '10.0.0.5')).code, 0);
    const ca = await cert(dir, 'yurt-agent-ca.pem');
    const s = await cert(dir, 'global-server-yurt.pem');

    const caInfo = await yurt(dir, 'tls', 'ca', 'info', 'yurt-agent-ca.pem');
    assert.equal(caInfo.code, 0, caInfo.err);
    const expiry = (c: X509Certificate): string => `${new Date(c.validTo).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
    assert.equal(
      caInfo.out,
      [
        `Serial Number         = ${BigInt(`0x${ca.serialNumber}`).toString()}`,
        'Issuer CN             = Test CA',
        'Common Name           = O=Yurt,CN=Test CA',
        `Expiry Date           = ${expiry(ca)}`,
        'Permitted DNS Domains = []',
        '',
      ].join('\n'),
    );
    const certInfo = await yurt(dir, 'tls', 'cert', 'info', 'global-server-yurt.pem');
    assert.equal(certInfo.code, 0, certInfo.err);
    assert.equal(
      certInfo.out,
      [
        `Serial Number = ${BigInt(`0x${s.serialNumber}`).toString()}`,
        'Issuer CN     = Test CA',
        'Common Name   = CN=server.global.yurt',
        `Expiry Date   = ${expiry(s)}`,
        'DNS Names     = [server.global.yurt localhost]',
        'IP Addresses  = [127.0.0.1 10.0.0.5]',
        '',
      ].join('\n'),
    );

    const notCa = await yurt(dir, 'tls', 'ca', 'info', 'global-server-yurt.pem');
    assert.equal(notCa.code, 1);
    assert.match(notCa.err, /global-server-yurt\.pem is not a CA certificate/);
    const notPem = await yurt(dir, 'tls', 'cert', 'info', 'global-server-yurt-key.pem');
    assert.equal(notPem.code, 1);
    assert.match(notPem.err, /global-server-yurt-key\.pem holds no PEM certificate we can read/);
    const missing = await yurt(dir, 'tls', 'cert', 'info', 'nope.pem');
    assert.match(missing.err, /cannot read the certificate file nope\.pem: no such file/);
    assert.equal((await yurt(dir, 'tls', 'cert', 'info')).code, 2);
  });
});

void test('`yurt tls` lists its groups', async () => {
  const r = await yurt(process.cwd(), 'tls');
  assert.equal(r.code, 0);
  assert.match(r.out, /\nSubcommands:\n {4}ca +Helpers for managing CAs\n {4}cert +Helpers for managing certificates\n$/);
});
