/**
 * The agent's certificate, key and CA, read and checked once at start. Everything wrong with
 * them is reported together, each against its config field (`tls.cert_file`), so the agent
 * refuses to start with a clear message instead of failing its first handshake with an
 * OpenSSL code: a missing or unreadable file, something that is not PEM, a key that belongs
 * to another certificate, a certificate our CA did not sign or that has expired, and a
 * server whose certificate does not name it a server (its peers would refuse it).
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AgentConfig, TlsConfig } from '../config/agent-config.js';
import type { FieldError } from '../../structs/errors.js';
import { ValidationError } from '../../structs/errors.js';
import { certificateNames, roleName } from './peer-role.js';

export interface TlsMaterial {
  tls: TlsConfig;
  region: string;
  /** PEM CA bundle; undefined when no ca_file is configured (HTTPS without client certs). */
  ca: Buffer | undefined;
  /** PEM certificate (with any intermediates after it) and key. */
  cert: Buffer;
  key: Buffer;
  /** The leaf certificate, parsed. */
  certificate: X509Certificate;
}

export type TlsAgentConfig = Pick<AgentConfig, 'tls' | 'region'> & { server: Pick<AgentConfig['server'], 'enabled'> };

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Whether TLS is on for anything; when it is not, `loadTlsMaterial` returns null. */
export function tlsEnabled(tls: TlsConfig): boolean {
  return tls.http || tls.rpc;
}

/**
 * Reads and checks the files named in the `tls` stanza. Returns null when TLS is off.
 * Throws ValidationError('agent config', ...) listing every problem found.
 */
export async function loadTlsMaterial(config: TlsAgentConfig, now: Date = new Date()): Promise<TlsMaterial | null> {
  const tls = config.tls;
  if (!tlsEnabled(tls)) return null;
  const errors: FieldError[] = [];
  const fail = (path: string, message: string): void => {
    errors.push({ path, message });
  };

  const needsCa = tls.rpc || tls.verifyHttpsClient;
  if (tls.certFile === '') fail('tls.cert_file', 'is required when tls.http or tls.rpc is enabled');
  if (tls.keyFile === '') fail('tls.key_file', 'is required when tls.http or tls.rpc is enabled');
  if (tls.caFile === '' && needsCa) {
    fail('tls.ca_file', `is required when ${tls.rpc ? 'tls.rpc' : 'tls.verify_https_client'} is enabled: peers' certificates are checked against it`);
  }

  const caPem = tls.caFile === '' ? undefined : await readPemFile(tls.caFile, 'tls.ca_file', fail);
  const certPem = tls.certFile === '' ? undefined : await readPemFile(tls.certFile, 'tls.cert_file', fail);
  const keyPem = tls.keyFile === '' ? undefined : await readPemFile(tls.keyFile, 'tls.key_file', fail);

  const cas = caPem === undefined ? undefined : parseCertificates(caPem, tls.caFile, 'tls.ca_file', fail);
  const chain = certPem === undefined ? undefined : parseCertificates(certPem, tls.certFile, 'tls.cert_file', fail);
  const leaf = chain?.[0];
  let key: KeyObject | undefined;
  if (keyPem !== undefined) {
    try {
      key = createPrivateKey(keyPem);
    } catch (e) {
      fail('tls.key_file', `${tls.keyFile} holds no PEM private key we can read (${(e as Error).message}); an encrypted key is not supported`);
    }
  }

  if (leaf !== undefined) {
    if (key !== undefined && !leaf.checkPrivateKey(key)) {
      fail('tls.key_file', `${tls.keyFile} is not the key of the certificate in ${tls.certFile}`);
    }
    const from = Date.parse(leaf.validFrom);
    const to = Date.parse(leaf.validTo);
    if (now.getTime() > to) fail('tls.cert_file', `the certificate in ${tls.certFile} expired on ${leaf.validTo}`);
    if (now.getTime() < from) fail('tls.cert_file', `the certificate in ${tls.certFile} is not valid before ${leaf.validFrom}`);
    if (cas !== undefined && cas.length > 0 && !chainsTo(leaf, chain?.slice(1) ?? [], cas)) {
      fail('tls.cert_file', `the certificate in ${tls.certFile} (issuer "${oneLine(leaf.issuer)}") was not signed by the CA in ${tls.caFile}`);
    }
    if (config.server.enabled && tls.rpc) {
      const want = roleName('server', config.region);
      if (!certificateNames(leaf, want)) {
        fail(
          'tls.cert_file',
          `a server's certificate must name ${want}, but the one in ${tls.certFile} names ${describeNames(leaf)}; other servers would refuse it (create one with \`yurt tls cert create -server -region ${config.region}\`)`,
        );
      }
    }
  }

  if (errors.length > 0) throw new ValidationError('agent config', errors);
  if (certPem === undefined || keyPem === undefined || leaf === undefined) {
    // Unreachable: every way to get here recorded an error above.
    throw new ValidationError('agent config', [{ path: 'tls.cert_file', message: 'no certificate loaded' }]);
  }
  return { tls, region: config.region, ca: caPem, cert: certPem, key: keyPem, certificate: leaf };
}

async function readPemFile(path: string, field: string, fail: (path: string, message: string) => void): Promise<Buffer | undefined> {
  try {
    return await readFile(resolve(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    fail(field, `cannot read ${path}: ${why}`);
    return undefined;
  }
}

function parseCertificates(pem: Buffer, path: string, field: string, fail: (path: string, message: string) => void): X509Certificate[] | undefined {
  const blocks = pem.toString('utf8').match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    fail(field, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return undefined;
  }
  const out: X509Certificate[] = [];
  for (const [i, b] of blocks.entries()) {
    try {
      out.push(new X509Certificate(b));
    } catch (e) {
      fail(field, `certificate ${i + 1} in ${path} cannot be parsed: ${(e as Error).message}`);
      return undefined;
    }
  }
  return out;
}

/** Whether `leaf` chains, through the intermediates sent with it, to one of the CAs. */
function chainsTo(leaf: X509Certificate, intermediates: X509Certificate[], cas: X509Certificate[]): boolean {
  let current = leaf;
  const pool = [...intermediates];
  for (let depth = 0; depth <= intermediates.length; depth++) {
    if (cas.some((ca) => current.checkIssued(ca) && current.verify(ca.publicKey))) return true;
    const next = pool.findIndex((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (next < 0) return false;
    current = pool.splice(next, 1)[0] ?? current;
  }
  return false;
}

function describeNames(cert: X509Certificate): string {
  return cert.subjectAltName ?? `the subject "${oneLine(cert.subject)}"`;
}

function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}
