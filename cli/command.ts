/**
 * What a command is, the options every API-talking command shares (Nomad's "General
 * Options"), and how commands report failures.
 */
import { ApiClient } from '../api/client.js';
import { DEFAULT_ADDRESS, resolveClientConfig } from '../api/config.js';
import { asYurtError } from '../structs/errors.js';
import { defineFlags, formatFlagHelp } from '../structs/flags.js';
import type { FlagSpec } from '../structs/flags.js';
import type { CliIo } from './io.js';
import { resolveApiTls, tlsFetch, type ApiTlsFlagValues } from './api-tls.js';

export interface Command {
  /** Words after `yurt`, e.g. ["job", "run"]. */
  path: string[];
  synopsis: string;
  /** The full `-help` text. */
  help: string;
  /** Exit code: 0 ok, 1 error, 2 usage error (or, for job run/stop, placement/allocation failure). */
  run(io: CliIo, argv: string[]): Promise<number>;
}

export interface CommandGroup {
  path: string[];
  synopsis: string;
  help: string;
  children: Array<Command | CommandGroup>;
}

export function isGroup(c: Command | CommandGroup): c is CommandGroup {
  return 'children' in c;
}

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
/** `job run` / `job stop`: placement failed or an allocation failed (Nomad's convention). */
export const EXIT_ALLOC_ERRORS = 2;

export const generalFlags = defineFlags({
  address: {
    type: 'string',
    placeholder: 'addr',
    help: `The address of the Yurt server. Overrides the YURT_ADDR (or NOMAD_ADDR) environment variable if set. Default = ${DEFAULT_ADDRESS}`,
  },
  region: {
    type: 'string',
    placeholder: 'region',
    help: 'The region of the Yurt servers to forward commands to. Overrides the YURT_REGION (or NOMAD_REGION) environment variable if set.',
  },
  namespace: {
    type: 'string',
    placeholder: 'namespace',
    help: 'The target namespace for queries and actions bound to a namespace. Overrides the YURT_NAMESPACE (or NOMAD_NAMESPACE) environment variable if set. Defaults to the "default" namespace.',
  },
  token: {
    type: 'string',
    placeholder: 'token',
    help: 'The ACL token, sent as X-Nomad-Token. Overrides the YURT_TOKEN (or NOMAD_TOKEN) environment variable if set.',
  },
  'ca-cert': {
    type: 'string',
    placeholder: 'path',
    help: "Path to a PEM encoded CA cert file to use to verify the Yurt server's SSL certificate. Overrides the YURT_CACERT (or NOMAD_CACERT) environment variable if set.",
  },
  'ca-path': {
    type: 'string',
    placeholder: 'path',
    help: "Path to a directory of PEM encoded CA cert files to verify the Yurt server's SSL certificate. If both -ca-cert and -ca-path are specified, -ca-cert is used. Overrides the YURT_CAPATH (or NOMAD_CAPATH) environment variable if set.",
  },
  'client-cert': {
    type: 'string',
    placeholder: 'path',
    help: 'Path to a PEM encoded client certificate for TLS authentication to the Yurt server. Must also specify -client-key. Overrides the YURT_CLIENT_CERT (or NOMAD_CLIENT_CERT) environment variable if set.',
  },
  'client-key': {
    type: 'string',
    placeholder: 'path',
    help: 'Path to an unencrypted PEM encoded private key matching the client certificate from -client-cert. Overrides the YURT_CLIENT_KEY (or NOMAD_CLIENT_KEY) environment variable if set.',
  },
  'tls-server-name': {
    type: 'string',
    placeholder: 'value',
    help: 'The server name to use as the SNI host when connecting via TLS, and to check its certificate against. Overrides the YURT_TLS_SERVER_NAME (or NOMAD_TLS_SERVER_NAME) environment variable if set.',
  },
  'tls-skip-verify': {
    type: 'bool',
    help: 'Do not verify TLS certificate. This is highly not recommended. Verification will also be skipped if YURT_SKIP_VERIFY (or NOMAD_SKIP_VERIFY) is set.',
  },
});

export interface GeneralFlagValues extends ApiTlsFlagValues {
  address: string | undefined;
  region: string | undefined;
  namespace: string | undefined;
  token: string | undefined;
}

/**
 * A command's help text in Nomad's layout: usage line, description, "General Options"
 * (for commands that talk to the API) and the command's own options.
 */
export function commandHelp(opts: {
  usage: string;
  description: string;
  general: boolean;
  optionsTitle?: string;
  flags?: FlagSpec;
}): string {
  const parts = [`Usage: ${opts.usage}`, indent(opts.description.trim())];
  if (opts.general) parts.push(`General Options:\n\n${formatFlagHelp(generalFlags).trimEnd()}`);
  if (opts.flags !== undefined && Object.keys(opts.flags).length > 0) {
    parts.push(`${opts.optionsTitle ?? 'Options'}:\n\n${formatFlagHelp(opts.flags).trimEnd()}`);
  }
  return parts.join('\n\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : `  ${l}`))
    .join('\n');
}

export function apiClient(io: CliIo, flags: GeneralFlagValues): ApiClient {
  const config = resolveClientConfig({ address: flags.address, region: flags.region, namespace: flags.namespace, token: flags.token }, io.env);
  // Only an https:// address needs the TLS transport; plain HTTP keeps the global fetch.
  if (!config.address.startsWith('https://')) return new ApiClient(config);
  return new ApiClient(config, tlsFetch(resolveApiTls(flags, io.env)));
}

/** Prints `<what>: <message>` on stderr and gives the error exit code. */
export function reportError(io: CliIo, what: string, err: unknown): number {
  io.err(`${what}: ${asYurtError(err).message}`);
  return EXIT_ERROR;
}
