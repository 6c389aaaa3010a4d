/**
 * Certificates for a yurt cluster, as `nomad tls ca create` / `nomad tls cert create` make
 * them (https://developer.hashicorp.com/nomad/commands/tls/cert-create): a self-signed CA,
 * and leaf certificates whose DNS names carry the agent's role, `server.<region>.yurt`,
 * `client.<region>.yurt` or `cli.<region>.yurt`. Agents read the role back from those names
 * (agent/tls/peer-role.ts), so a client certificate cannot act as a server.
 *
 * Keys are ECDSA P-256 with SHA-256 signatures (small, fast, accepted everywhere); the ASN.1
 * is written by @peculiar/x509 over Node's WebCrypto, never by hand.
 */
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type SigningAlgorithm = webcrypto.Algorithm | webcrypto.EcdsaParams;
import { isIP } from 'node:net';
import { YurtError } from '../../structs/errors.js';
import { installReflectMetadata } from './tls-reflect-metadata.js';
import type * as X509Module from '@peculiar/x509';

export const certRoles = ['server', 'client', 'cli'] as const;
export type CertRole = (typeof certRoles)[number];

/** Nomad's defaults: a CA lives 5 years, an agent certificate 1 year. */
export const DEFAULT_CA_DAYS = 1825;
export const DEFAULT_CERT_DAYS = 365;
export const DEFAULT_DOMAIN = 'yurt';
export const DEFAULT_REGION = 'global';

export interface PemPair {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS#8). */
  key: string;
}

export interface CaOptions {
  days?: number;
  /** Default: "Yurt Agent CA <serial>", as Nomad names its CA. */
  commonName?: string;
  now?: Date;
}

export interface CertOptions {
  role: CertRole;
  region?: string;
  domain?: string;
  ca: PemPair;
  days?: number;
  additionalDnsNames?: readonly string[];
  additionalIpAddresses?: readonly string[];
  now?: Date;
}

export interface IssuedCert extends PemPair {
  /** The subject alternative names written, DNS then IP. */
  dnsNames: string[];
  ipAddresses: string[];
}

/** The DNS name that states a role: `server.global.yurt`. */
export function roleName(role: CertRole, region: string, domain: string = DEFAULT_DOMAIN): string {
  return `${role}.${region}.${domain}`;
}

export function caFileNames(domain: string = DEFAULT_DOMAIN): { cert: string; key: string } {
  return { cert: `${domain}-agent-ca.pem`, key: `${domain}-agent-ca-key.pem` };
}

export function certFileNames(role: CertRole, region: string = DEFAULT_REGION, domain: string = DEFAULT_DOMAIN): { cert: string; key: string } {
  const prefix = `${region}-${role}-${domain}`;
  return { cert: `${prefix}.pem`, key: `${prefix}-key.pem` };
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Whether `name` is a DNS name a certificate may carry (a leading `*.` wildcard allowed). */
export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (labels[0] === '*') labels.shift();
  return labels.length > 0 && labels.every((l) => DNS_LABEL.test(l));
}

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Certificates start a minute in the past: a peer whose clock runs a little behind must
 *  not see a brand-new certificate as "not yet valid". */
const BACKDATE_MS = 60_000;

type X509Lib = typeof X509Module;
let lib: Promise<X509Lib> | undefined;

/** @peculiar/x509 needs Reflect metadata before it loads, hence the dynamic import. */
function x509(): Promise<X509Lib> {
  lib ??= (async () => {
    installReflectMetadata();
    const m = await import('@peculiar/x509');
    m.cryptoProvider.set(webcrypto);
    return m;
  })();
  return lib;
}

function checkDays(days: number): void {
  if (!Number.isInteger(days) || days < 1 || days > 100 * 366) {
    throw new YurtError('invalid_argument', `-days must be a whole number of days between 1 and 36600, got ${days}`);
  }
}

/** A positive 128-bit serial (RFC 5280 4.1.2.2: positive, at most 20 octets, unpredictable). */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  if (b[0] === 0) b[0] = 0x01;
  return b.toString('hex');
}

async function exportKey(key: CryptoKey): Promise<string> {
  const m = await x509();
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return m.PemConverter.encode(der, 'PRIVATE KEY');
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify']);
}

export async function createCa(opts: CaOptions = {}): Promise<PemPair> {
  const days = opts.days ?? DEFAULT_CA_DAYS;
  checkDays(days);
  const m = await x509();
  const now = opts.now ?? new Date();
  const keys = await newKeyPair();
  const serial = randomSerial();
  const commonName = opts.commonName ?? `Yurt Agent CA ${BigInt(`0x${serial}`).toString()}`;
  const cert = await m.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: [{ CN: [commonName] }, { O: ['Yurt'] }],
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    keys,
    signingAlgorithm: EC_ALG,
    extensions: [
      new m.BasicConstraintsExtension(true, undefined, true),
      new m.KeyUsagesExtension(m.KeyUsageFlags.keyCertSign | m.KeyUsageFlags.cRLSign | m.KeyUsageFlags.digitalSignature, true),
      await m.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

/** The CA key as WebCrypto wants it for signing; EC (P-256/384/521) or RSA keys, as other
 *  tools (openssl, Nomad itself) may have made the CA. */
async function importSigningKey(key: KeyObject): Promise<{ key: CryptoKey; alg: SigningAlgorithm }> {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const named = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : undefined;
    if (named === undefined) throw new YurtError('invalid_argument', `the CA key uses the curve ${curve ?? 'unknown'}; P-256, P-384 or P-521 are supported`);
    const hash = named === 'P-256' ? 'SHA-256' : named === 'P-384' ? 'SHA-384' : 'SHA-512';
    const k = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: named }, false, ['sign']);
    return { key: k, alg: { name: 'ECDSA', hash } as webcrypto.EcdsaParams };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { key: await webcrypto.subtle.importKey('pkcs8', der, alg, false, ['sign']), alg };
  }
  throw new YurtError('invalid_argument', `the CA key is a ${key.asymmetricKeyType ?? 'unknown'} key; EC or RSA keys are supported`);
}

/** Parses and cross-checks a CA: a CA certificate, a key that belongs to it. */
function parseCa(ca: PemPair): { cert: X509Certificate; key: KeyObject } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(ca.cert);
  } catch (e) {
    throw new YurtError('invalid_argument', `the CA file is not a PEM certificate: ${(e as Error).message}`, { cause: e });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(ca.key);
  } catch (e) {
    throw new YurtError('invalid_argument', `the CA key file is not a PEM private key: ${(e as Error).message}`, { cause: e });
  }
  if (!cert.ca) throw new YurtError('invalid_argument', 'the CA file holds a certificate that is not a CA (basic constraints CA:FALSE)');
  const spki = (k: KeyObject): Buffer => k.export({ format: 'der', type: 'spki' });
  if (!spki(createPublicKey(key)).equals(spki(cert.publicKey))) {
    throw new YurtError('invalid_argument', 'the CA key does not belong to the CA certificate');
  }
  return { cert, key };
}

export async function createCert(opts: CertOptions): Promise<IssuedCert> {
  const region = opts.region ?? DEFAULT_REGION;
  const domain = opts.domain ?? DEFAULT_DOMAIN;
  const days = opts.days ?? DEFAULT_CERT_DAYS;
  checkDays(days);
  if (!DNS_LABEL.test(region)) throw new YurtError('invalid_argument', `-region must be a DNS label (letters, digits, "-"), got ${JSON.stringify(region)}`);
  if (!isDnsName(domain) || domain.startsWith('*')) throw new YurtError('invalid_argument', `-domain must be a DNS name, got ${JSON.stringify(domain)}`);
  for (const n of opts.additionalDnsNames ?? []) {
    if (!isDnsName(n)) throw new YurtError('invalid_argument', `-additional-dnsname ${JSON.stringify(n)} is not a DNS name`);
  }
  for (const ip of opts.additionalIpAddresses ?? []) {
    if (isIP(ip) === 0) throw new YurtError('invalid_argument', `-additional-ipaddress ${JSON.stringify(ip)} is not an IP address`);
  }

  const ca = parseCa(opts.ca);
  const m = await x509();
  const now = opts.now ?? new Date();
  const name = roleName(opts.role, region, domain);
  // As Nomad: localhost always, 127.0.0.1 for the agents that serve (server, client); a CLI
  // certificate only ever dials out.
  const dnsNames = unique([name, 'localhost', ...(opts.additionalDnsNames ?? [])]);
  const ipAddresses = unique([...(opts.role === 'cli' ? [] : ['127.0.0.1']), ...(opts.additionalIpAddresses ?? [])]);
  const usages = opts.role === 'cli' ? [m.ExtendedKeyUsage.clientAuth] : [m.ExtendedKeyUsage.serverAuth, m.ExtendedKeyUsage.clientAuth];

  const signing = await importSigningKey(ca.key);
  const keys = await newKeyPair();
  const caCert = new m.X509Certificate(opts.ca.cert);
  const caKeyId = caCert.getExtension(m.SubjectKeyIdentifierExtension)?.keyId;
  const notAfter = new Date(Math.min(now.getTime() + days * DAY_MS, new Date(ca.cert.validTo).getTime()));
  const cert = await m.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [name] }],
    issuer: caCert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    // A certificate outliving its CA would fail verification anyway; cap it, as Go's does not.
    notAfter,
    publicKey: keys.publicKey,
    signingKey: signing.key,
    signingAlgorithm: signing.alg,
    extensions: [
      new m.BasicConstraintsExtension(false, undefined, true),
      new m.KeyUsagesExtension(m.KeyUsageFlags.digitalSignature | m.KeyUsageFlags.keyEncipherment, true),
      new m.ExtendedKeyUsageExtension(usages),
      new m.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await m.SubjectKeyIdentifierExtension.create(keys.publicKey),
      // The CA's own key identifier when it has one: chain builders match on it, and a CA
      // made by another tool may have derived it differently.
      caKeyId !== undefined ? new m.AuthorityKeyIdentifierExtension(caKeyId) : await m.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey), dnsNames, ipAddresses };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
