/** `yurt tls ca create`: a self-signed CA for the cluster's agent certificates. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, commandHelp, reportError } from '../command.js';
import { expectArgs, parseArgs } from '../usage.js';
import { DEFAULT_CA_DAYS, DEFAULT_DOMAIN, caFileNames, createCa } from './tls-certificates.js';
import { CERT_MODE, KEY_MODE, assertAbsent, writeNew } from './tls-files.js';

const flags = defineFlags({
  'common-name': { type: 'string', placeholder: 'name', help: 'Common Name of the CA. Defaults to "Yurt Agent CA <serial>".' },
  days: { type: 'int', default: DEFAULT_CA_DAYS, placeholder: 'int', help: `Provide number of days the CA is valid for from now on. Defaults to ${DEFAULT_CA_DAYS} (5 years).` },
  domain: { type: 'string', default: DEFAULT_DOMAIN, placeholder: 'string', help: `Domain of the yurt cluster; names the files ("<domain>-agent-ca.pem"). Defaults to "${DEFAULT_DOMAIN}".` },
});

export const tlsCaCreateCommand: Command = {
  path: ['tls', 'ca', 'create'],
  synopsis: 'Create a certificate authority for Yurt TLS',
  help: commandHelp({
    usage: 'yurt tls ca create [options]',
    description: `Creates a self-signed certificate authority (ECDSA P-256) to sign the certificates
of the cluster's servers, clients and CLI users. The certificate is written to
<domain>-agent-ca.pem and its key, readable by its owner only, to
<domain>-agent-ca-key.pem in the current directory. Existing files are never
overwritten.`,
    general: false,
    optionsTitle: 'CA Create Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, flags);
    expectArgs(args, 0, 0, 'no arguments');
    const files = caFileNames(f.domain);
    try {
      await assertAbsent(io.cwd, files.cert, files.key);
      const ca = await createCa({ days: f.days, ...(f['common-name'] !== undefined ? { commonName: f['common-name'] } : {}), now: new Date(io.now()) });
      await writeNew(io.cwd, files.key, ca.key, KEY_MODE);
      await writeNew(io.cwd, files.cert, ca.cert, CERT_MODE);
    } catch (err) {
      return reportError(io, 'Error creating the CA', err);
    }
    io.out(`==> CA certificate saved to: ${files.cert}`);
    io.out(`==> CA certificate key saved to: ${files.key}`);
    return EXIT_OK;
  },
};
