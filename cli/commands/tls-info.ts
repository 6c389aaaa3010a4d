/**
 * `yurt tls ca info <file>` and `yurt tls cert info <file>`: what a PEM certificate says, in
 * the layout of `nomad tls ca info` / `nomad tls cert info`.
 */
import { X509Certificate } from 'node:crypto';
import { YurtError } from '../../structs/errors.js';
import type { Command } from '../command.js';
import { EXIT_OK, commandHelp, reportError } from '../command.js';
import { formatKV } from '../format/table.js';
import { expectArgs, parseArgs } from '../usage.js';
import { readPem } from './tls-files.js';

export interface CertificateSummary {
  serialNumber: string;
  issuerCn: string;
  commonName: string;
  expiry: string;
  dnsNames: string[];
  ipAddresses: string[];
  isCa: boolean;
}

/** Splits Node's `subjectAltName` ("DNS:a, DNS:b, IP Address:127.0.0.1"). */
function altNames(cert: X509Certificate): { dns: string[]; ip: string[] } {
  const dns: string[] = [];
  const ip: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) dns.push(part.slice(4));
    else if (part.startsWith('IP Address:')) ip.push(part.slice(11));
  }
  return { dns, ip };
}

function cn(dn: string): string {
  return dn.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? '';
}

/** "2027-11-13 21:37:38 +0000 UTC", as Go prints a UTC time. */
function goTime(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

export function summarizeCertificate(pem: string, file: string): CertificateSummary {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    throw new YurtError('invalid_argument', `${file} holds no PEM certificate we can read: ${(e as Error).message}`, { cause: e });
  }
  const names = altNames(cert);
  return {
    serialNumber: BigInt(`0x${cert.serialNumber}`).toString(),
    issuerCn: cn(cert.issuer),
    commonName: cert.subject.split('\n').reverse().join(','),
    expiry: goTime(new Date(cert.validTo)),
    dnsNames: names.dns,
    ipAddresses: names.ip,
    isCa: cert.ca,
  };
}

function infoCommand(kind: 'ca' | 'cert'): Command {
  const what = kind === 'ca' ? 'CA file' : 'certificate file';
  return {
    path: ['tls', kind, 'info'],
    synopsis: kind === 'ca' ? 'Show information about a CA certificate' : 'Show information about a certificate',
    help: commandHelp({
      usage: `yurt tls ${kind} info <${kind === 'ca' ? 'CA file' : 'certificate file'}>`,
      description: `Shows the serial number, issuer, subject, expiry and names of a ${kind === 'ca' ? 'CA ' : ''}certificate.`,
      general: false,
    }),
    async run(io, argv) {
      const { args } = parseArgs(argv, {});
      expectArgs(args, 1, 1, `one argument: <${what}>`);
      const file = args[0] ?? '';
      let s: CertificateSummary;
      try {
        s = summarizeCertificate(await readPem(io.cwd, file, what), file);
        if (kind === 'ca' && !s.isCa) throw new YurtError('invalid_argument', `${file} is not a CA certificate (use \`yurt tls cert info\`)`);
      } catch (err) {
        return reportError(io, `Error reading the ${what}`, err);
      }
      const rows: Array<[string, string]> = [
        ['Serial Number', s.serialNumber],
        ['Issuer CN', s.issuerCn],
        ['Common Name', s.commonName],
        ['Expiry Date', s.expiry],
      ];
      if (kind === 'ca') rows.push(['Permitted DNS Domains', '[]']);
      else rows.push(['DNS Names', `[${s.dnsNames.join(' ')}]`], ['IP Addresses', `[${s.ipAddresses.join(' ')}]`]);
      io.out(formatKV(rows));
      return EXIT_OK;
    },
  };
}

export const tlsCaInfoCommand = infoCommand('ca');
export const tlsCertInfoCommand = infoCommand('cert');
