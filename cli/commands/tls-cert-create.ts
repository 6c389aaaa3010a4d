/**
 * `yurt tls cert create -server|-client|-cli`: an agent or CLI certificate signed by the
 * CA, named for its role (`server.<region>.yurt`), as `nomad tls cert create` does.
 */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, commandHelp, reportError } from '../command.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';
import type { CertRole } from './tls-certificates.js';
import { DEFAULT_CERT_DAYS, DEFAULT_DOMAIN, DEFAULT_REGION, caFileNames, certFileNames, createCert } from './tls-certificates.js';
import { CERT_MODE, KEY_MODE, assertAbsent, readPem, writeNew } from './tls-files.js';

const defaultCa = caFileNames(DEFAULT_DOMAIN);

const flags = defineFlags({
  'additional-dnsname': { type: 'stringList', placeholder: 'string', help: 'Provide an additional dnsname for Subject Alternative Names. localhost is always included. This flag may be provided multiple times.' },
  'additional-ipaddress': { type: 'stringList', placeholder: 'string', help: 'Provide an additional ipaddress for Subject Alternative Names. 127.0.0.1 is always included for server and client certificates. This flag may be provided multiple times.' },
  ca: { type: 'string', placeholder: 'string', help: `Provide path to the ca. Defaults to #DOMAIN#-agent-ca.pem (${defaultCa.cert}).` },
  cli: { type: 'bool', help: 'Generate cli certificate.' },
  client: { type: 'bool', help: 'Generate client certificate.' },
  days: { type: 'int', default: DEFAULT_CERT_DAYS, placeholder: 'int', help: `Provide number of days the certificate is valid for from now on. Defaults to ${DEFAULT_CERT_DAYS} (1 year).` },
  domain: { type: 'string', default: DEFAULT_DOMAIN, placeholder: 'string', help: `Provide the domain. Defaults to "${DEFAULT_DOMAIN}"; agents only accept "${DEFAULT_DOMAIN}".` },
  key: { type: 'string', placeholder: 'string', help: `Provide path to the key. Defaults to #DOMAIN#-agent-ca-key.pem (${defaultCa.key}).` },
  region: { type: 'string', default: DEFAULT_REGION, placeholder: 'string', help: `Provide the region. Defaults to "${DEFAULT_REGION}".` },
  server: { type: 'bool', help: 'Generate server certificate.' },
});

const SERVER_WARNING = `==> WARNING: Server Certificates grants authority to become a
    server and access all state in the cluster including root keys
    and all ACL tokens. Do not distribute them to production hosts
    that are not server nodes. Store them as securely as CA keys.`;

const roleTitle: Record<CertRole, string> = { server: 'Server', client: 'Client', cli: 'Cli' };

export const tlsCertCreateCommand: Command = {
  path: ['tls', 'cert', 'create'],
  synopsis: 'Create a certificate for a server, client or CLI',
  help: commandHelp({
    usage: 'yurt tls cert create [options]',
    description: `Creates a certificate (ECDSA P-256) signed by the CA for one role: -server, -client
or -cli. Its DNS names state the role (server.<region>.yurt, client.<region>.yurt,
cli.<region>.yurt), which is how agents tell a server from a client. The files are
<region>-<role>-<domain>.pem and <region>-<role>-<domain>-key.pem in the current
directory; existing files are never overwritten.`,
    general: false,
    optionsTitle: 'Certificate Create Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, flags);
    expectArgs(args, 0, 0, 'no arguments');
    const roles = (['server', 'client', 'cli'] as const).filter((r) => f[r]);
    const role = roles[0];
    if (role === undefined || roles.length > 1) throw new UsageError('Exactly one of -server, -client or -cli is required');
    const caFiles = caFileNames(f.domain);
    const caPath = f.ca ?? caFiles.cert;
    const keyPath = f.key ?? caFiles.key;
    const out = certFileNames(role, f.region, f.domain);
    if (role === 'server') io.out(SERVER_WARNING);
    try {
      await assertAbsent(io.cwd, out.cert, out.key);
      const ca = { cert: await readPem(io.cwd, caPath, 'CA file'), key: await readPem(io.cwd, keyPath, 'CA key file') };
      io.out(`==> Using CA file ${caPath} and CA key ${keyPath}`);
      const issued = await createCert({
        role,
        region: f.region,
        domain: f.domain,
        ca,
        days: f.days,
        additionalDnsNames: f['additional-dnsname'],
        additionalIpAddresses: f['additional-ipaddress'],
        now: new Date(io.now()),
      });
      await writeNew(io.cwd, out.key, issued.key, KEY_MODE);
      await writeNew(io.cwd, out.cert, issued.cert, CERT_MODE);
    } catch (err) {
      return reportError(io, 'Error creating the certificate', err);
    }
    io.out(`==> ${roleTitle[role]} Certificate saved to ${out.cert}`);
    io.out(`==> ${roleTitle[role]} Certificate key saved to ${out.key}`);
    return EXIT_OK;
  },
};
