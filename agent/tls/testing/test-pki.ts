/**
 * Certificates for tests, made by the real `yurt tls` commands in a temp directory (the
 * agent may not import the CLI, and running it also checks that what the CLI makes is
 * what the agent accepts): a CA with server, client and CLI certificates for region
 * "global", a server certificate for another region, and a second CA with a server
 * certificate no agent of the first trusts. Two certificates the CLI would never make come
 * from openssl, signed by the same CA: one naming `server.global.yurt` only in its subject
 * CN, one with the wildcard `*.global.yurt`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const yurtBin = new URL('../../../bin/yurt.js', import.meta.url).pathname;

export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface TestPki {
  dir: string;
  caFile: string;
  ca: Buffer;
  server: TestCert;
  client: TestCert;
  cli: TestCert;
  /** server.eu.yurt, from the same CA. */
  euServer: TestCert;
  /** A second CA and a server.global.yurt certificate it signed. */
  rogueCaFile: string;
  rogueServer: TestCert;
  /** Same CA, made by openssl: CN=server.global.yurt and no DNS names. */
  cnOnlyServer: TestCert;
  /** Same CA, made by openssl: DNS:*.global.yurt. */
  wildcardServer: TestCert;
  cleanup(): Promise<void>;
}

async function yurt(cwd: string, ...args: string[]): Promise<void> {
  // From source, so the test checks the code in the tree rather than an older build.
  await run(process.execPath, [yurtBin, ...args], { cwd, env: { ...process.env, YURT_FROM_SOURCE: '1' } });
}

async function load(dir: string, base: string): Promise<TestCert> {
  const certFile = join(dir, `${base}.pem`);
  const keyFile = join(dir, `${base}-key.pem`);
  return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}

/** A certificate signed by the CA in `dir`, with openssl's own extension syntax. */
async function opensslCert(dir: string, base: string, subject: string, extensions: string): Promise<TestCert> {
  const ext = join(dir, `${base}.ext`);
  await writeFile(ext, extensions);
  const key = join(dir, `${base}-key.pem`);
  const csr = join(dir, `${base}.csr`);
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await run('openssl', ['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', join(dir, 'yurt-agent-ca.pem'), '-CAkey', join(dir, 'yurt-agent-ca-key.pem'), '-set_serial', '7', '-days', '2', '-extfile', ext, '-out', join(dir, `${base}.pem`)]);
  return load(dir, base);
}

/**
 * Another server certificate from the PKI's CA (a new key and serial), in its own
 * subdirectory `name` so it does not collide with the first: what an operator rotating
 * certificates would put in place.
 */
export async function issueServerCert(pki: Pick<TestPki, 'dir'>, name: string): Promise<TestCert> {
  const sub = join(pki.dir, name);
  await mkdir(sub);
  await yurt(sub, 'tls', 'cert', 'create', '-server', '-ca', join(pki.dir, 'yurt-agent-ca.pem'), '-key', join(pki.dir, 'yurt-agent-ca-key.pem'));
  return load(sub, 'global-server-yurt');
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'yurt-pki-'));
  const rogueDir = join(dir, 'rogue');
  await mkdir(rogueDir);
  await Promise.all([yurt(dir, 'tls', 'ca', 'create'), yurt(rogueDir, 'tls', 'ca', 'create')]);
  await Promise.all([
    yurt(dir, 'tls', 'cert', 'create', '-server'),
    yurt(dir, 'tls', 'cert', 'create', '-client'),
    yurt(dir, 'tls', 'cert', 'create', '-cli'),
    yurt(dir, 'tls', 'cert', 'create', '-server', '-region', 'eu'),
    yurt(rogueDir, 'tls', 'cert', 'create', '-server'),
  ]);
  const caFile = join(dir, 'yurt-agent-ca.pem');
  return {
    dir,
    caFile,
    ca: await readFile(caFile),
    server: await load(dir, 'global-server-yurt'),
    client: await load(dir, 'global-client-yurt'),
    cli: await load(dir, 'global-cli-yurt'),
    euServer: await load(dir, 'eu-server-yurt'),
    rogueCaFile: join(rogueDir, 'yurt-agent-ca.pem'),
    rogueServer: await load(rogueDir, 'global-server-yurt'),
    cnOnlyServer: await opensslCert(dir, 'cn-only', '/CN=server.global.yurt', 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n'),
    wildcardServer: await opensslCert(dir, 'wildcard', '/CN=wildcard', 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:*.global.yurt\n'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
