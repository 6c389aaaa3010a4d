/**
 * From `yurt agent ARGS` to a complete AgentConfig, in Nomad's order (command/agent/command.go
 * readConfig): defaults, then the -dev layer, then the -config files in order, then the
 * flags; then the values derived from others (service addresses from bind_addr, advertise
 * addresses, the -dev data dir), then the rules that span fields.
 */
import { mkdtempSync } from 'node:fs';
import { hostname as osHostname, networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FieldError } from '../../structs/errors.js';
import { ValidationError, YurtError } from '../../structs/errors.js';
import type { AddressSet, AgentConfig, PartialAgentConfig } from './agent-config.js';
import { defaultAgentConfig, defaultPorts, devModeLayer } from './agent-config.js';
import { configFromFlags } from './agent-flags.js';
import { loadConfigFiles } from './config-files.js';
import { mergeConfigAt } from './config-merge.js';
import { checkLogLevel, checkPort, formatHostPort, parseHostPort } from './value-rules.js';

export interface ResolveOptions {
  /** Creates the -dev data directory; default: a new directory under the OS temp dir. */
  tmpDir?: () => string;
  /** Default agent name; default: the OS host name. */
  hostname?: string;
  /** Default server.num_schedulers; default: the number of CPUs. */
  cpuCount?: number;
  /** Address to advertise when bound to 0.0.0.0 / ::; default: the first non-internal IPv4. */
  privateIp?: () => string | undefined;
}

/**
 * Throws YurtError('invalid_argument') for bad flags or arguments (and for -h/-help: check
 * `configFromFlags(argv).helpRequested` first to print help), YurtError('parse_error') for a
 * config file with a syntax error, and ValidationError for anything else wrong.
 */
export async function resolveAgentConfig(argv: readonly string[], opts: ResolveOptions = {}): Promise<AgentConfig> {
  const fl = configFromFlags(argv);
  if (fl.helpRequested) throw new YurtError('invalid_argument', 'flag: help requested');
  if (fl.args.length > 0) throw new YurtError('invalid_argument', `unexpected argument "${fl.args[0]}": the agent takes only flags`);

  const fromFiles = fl.configPaths.length > 0 ? await loadConfigFiles(fl.configPaths) : {};
  const layers: PartialAgentConfig[] = [...(fl.dev ? [devModeLayer()] : []), fromFiles, fl.config];
  let config: AgentConfig = defaultAgentConfig({
    hostname: opts.hostname ?? osHostname(),
    ...(opts.cpuCount !== undefined ? { cpuCount: opts.cpuCount } : {}),
  });
  for (const layer of layers) config = mergeConfigAt(config, layer as AgentConfig);

  derive(config, opts);
  const errors = validate(config);
  if (errors.length > 0) throw new ValidationError('agent config', errors);
  return config;
}

function derive(c: AgentConfig, opts: ResolveOptions): void {
  if (c.devMode && c.dataDir === '') c.dataDir = (opts.tmpDir ?? (() => mkdtempSync(join(tmpdir(), 'yurt-dev-'))))();
  if (c.dataDir !== '') c.dataDir = resolve(c.dataDir);
  // TLS files relative to the working directory, as Nomad reads them; absolute from here on
  // so error messages name the file that was really looked for.
  for (const f of ['caFile', 'certFile', 'keyFile'] as const) if (c.tls[f] !== '') c.tls[f] = resolve(c.tls[f]);
  c.logLevel = c.logLevel.toUpperCase() as AgentConfig['logLevel'];

  // Nomad's normalizeAddrs: each service binds to bind_addr unless given its own address.
  for (const s of services) if (c.addresses[s] === '') c.addresses[s] = c.bindAddr;

  // Nomad's normalizeAdvertise: a given address gets the service port if it has none; no
  // address means the bind address, or a private IP when bound to every interface.
  for (const s of services) {
    const given = c.advertise[s];
    if (given !== '') {
      const hp = parseHostPort(given, c.ports[s]);
      if (typeof hp !== 'string') c.advertise[s] = formatHostPort(hp);
      continue;
    }
    const bound = c.addresses[s];
    const host = bound === '0.0.0.0' || bound === '::' ? ((opts.privateIp ?? firstPrivateIPv4)() ?? '127.0.0.1') : bound;
    c.advertise[s] = formatHostPort({ host, port: c.ports[s] });
  }

  c.client.servers = c.client.servers.map((s) => {
    const hp = parseHostPort(s, defaultPorts.rpc);
    return typeof hp === 'string' ? s : formatHostPort(hp);
  });
}

const services: readonly (keyof AddressSet)[] = ['http', 'rpc', 'serf'];

function validate(c: AgentConfig): FieldError[] {
  const errors: FieldError[] = [];
  const add = (path: string, problem: string | undefined): void => {
    if (problem !== undefined) errors.push({ path, message: problem });
  };

  add('server.enabled', !c.server.enabled && !c.client.enabled ? 'neither server nor client mode is enabled (use -server, -client or -dev, or set server.enabled / client.enabled)' : undefined);
  add('data_dir', c.dataDir === '' ? 'is required unless the agent runs with -dev (use -data-dir or set data_dir)' : undefined);
  add('server.bootstrap_expect', c.server.enabled && c.server.bootstrapExpect < 1 ? `must be >= 1 when the server is enabled, got ${c.server.bootstrapExpect} (use -bootstrap-expect or set server.bootstrap_expect)` : undefined);
  for (const s of services) add(`ports.${s}`, checkPort(c.ports[s]));
  add('log_level', checkLogLevel(c.logLevel));
  c.client.servers.forEach((s, i) => {
    const hp = parseHostPort(s, defaultPorts.rpc);
    add(`client.servers[${i}]`, typeof hp === 'string' ? hp : undefined);
  });
  if (c.tls.http || c.tls.rpc) {
    add('tls.cert_file', c.tls.certFile === '' ? 'is required when tls.http or tls.rpc is enabled' : undefined);
    add('tls.key_file', c.tls.keyFile === '' ? 'is required when tls.http or tls.rpc is enabled' : undefined);
    // Mutual TLS checks peers against the CA: without one every peer would be refused.
    const caUser = c.tls.rpc ? 'tls.rpc' : c.tls.verifyHttpsClient ? 'tls.verify_https_client' : undefined;
    add('tls.ca_file', caUser !== undefined && c.tls.caFile === '' ? `is required when ${caUser} is enabled` : undefined);
  }
  return errors;
}

function firstPrivateIPv4(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
