/**
 * The `yurt agent` command line, with Nomad's flag names (`nomad agent -h`), and its mapping
 * onto the config. A flag overrides the files only when it is given: `-log-json` absent
 * leaves a file's `log_json = true` alone, `-log-json=false` turns it off.
 */
import type { FlagValues } from '../../structs/flags.js';
import { defineFlags, parseFlags } from '../../structs/flags.js';
import type { LogLevel, PartialAgentConfig } from './agent-config.js';
import { defaultPorts } from './agent-config.js';
import { pruneUndefined } from './config-decoder.js';
import { checkAtLeast, checkHost, checkKeyValue, checkLogLevel, checkNotEmpty, checkPort, parseHostPort } from './value-rules.js';

export const agentFlagSpec = defineFlags({
  dev: {
    type: 'bool',
    help: 'Start the agent in development mode: server and client in one process, bootstrapped alone, on 127.0.0.1, with state in a fresh temporary directory. Not for production.',
  },
  server: { type: 'bool', help: 'Enable server mode for the agent.' },
  client: { type: 'bool', help: 'Enable client mode for the agent.' },
  'bootstrap-expect': {
    type: 'int',
    placeholder: 'num',
    help: 'Number of servers to wait for before electing the first leader. Equivalent to server.bootstrap_expect.',
    validate: checkAtLeast(0),
  },
  'data-dir': { type: 'string', placeholder: 'path', help: 'Directory for the agent\'s state. Equivalent to data_dir.', validate: checkNotEmpty },
  config: {
    type: 'stringList',
    placeholder: 'path',
    help: 'A config file, or a directory whose *.hcl and *.json files load in name order. Can be given more than once; later files override earlier ones.',
  },
  servers: {
    type: 'stringList',
    split: ',',
    placeholder: 'host:port,...',
    help: 'Comma-separated server addresses for the client to connect to. Equivalent to client.servers.',
    validate: (s) => {
      const hp = parseHostPort(s, defaultPorts.rpc);
      return typeof hp === 'string' ? hp : undefined;
    },
  },
  'retry-join': {
    type: 'stringList',
    placeholder: 'address',
    help: 'Address of a server to join, retrying until it answers. Can be given more than once. Equivalent to server.server_join.retry_join.',
    validate: checkNotEmpty,
  },
  'node-class': { type: 'string', placeholder: 'class', help: 'Class of this client node, for constraints. Equivalent to client.node_class.' },
  'node-pool': { type: 'string', placeholder: 'pool', help: 'Node pool this client joins. Equivalent to client.node_pool.', validate: checkNotEmpty },
  meta: {
    type: 'stringList',
    placeholder: 'key=value',
    help: 'Metadata for this client node. Can be given more than once. Equivalent to client.meta.',
    validate: checkKeyValue,
  },
  region: { type: 'string', placeholder: 'region', help: 'Region the agent belongs to. Equivalent to region.', validate: checkNotEmpty },
  dc: { type: 'string', placeholder: 'datacenter', help: 'Datacenter the agent belongs to. Equivalent to datacenter.', validate: checkNotEmpty },
  bind: { type: 'string', placeholder: 'address', help: 'Address the agent\'s services listen on. Equivalent to bind_addr.', validate: checkHost },
  'http-port': { type: 'int', placeholder: 'port', help: 'Port of the HTTP API. Equivalent to ports.http.', validate: checkPort },
  'rpc-port': { type: 'int', placeholder: 'port', help: 'Port of the RPC listener. Equivalent to ports.rpc.', validate: checkPort },
  name: {
    type: 'string',
    aliases: ['node'],
    placeholder: 'name',
    help: 'Name of this agent, unique in the region. Defaults to the host name. Equivalent to name.',
    validate: checkNotEmpty,
  },
  'log-level': {
    type: 'string',
    placeholder: 'level',
    help: 'Log level: TRACE, DEBUG, INFO, WARN or ERROR. Equivalent to log_level.',
    validate: checkLogLevel,
  },
  'log-json': { type: 'bool', help: 'Write logs as JSON lines. Equivalent to log_json.' },
  'acl-enabled': { type: 'bool', help: 'Enforce ACLs on the API: requests need a token whose policies allow them. Equivalent to acl.enabled.' },
});

export interface AgentFlags {
  /** What the flags set, as a config layer to merge over the files. */
  config: PartialAgentConfig;
  /** -config paths, in order. */
  configPaths: string[];
  dev: boolean;
  /** Positional arguments (the agent takes none; resolveAgentConfig rejects them). */
  args: string[];
  helpRequested: boolean;
}

export function configFromFlags(argv: readonly string[]): AgentFlags {
  const { flags, set, args, helpRequested } = parseFlags(argv, agentFlagSpec);
  const given = <K extends keyof FlagValues<typeof agentFlagSpec>>(k: K): FlagValues<typeof agentFlagSpec>[K] | undefined =>
    set.has(k) ? flags[k] : undefined;
  const nonEmpty = (xs: string[]): string[] | undefined => (xs.length > 0 ? xs : undefined);

  const config: PartialAgentConfig = {
    dataDir: given('data-dir'),
    bindAddr: given('bind'),
    region: given('region'),
    datacenter: given('dc'),
    name: given('name'),
    logLevel: given('log-level')?.toUpperCase() as LogLevel | undefined,
    logJson: given('log-json'),
    ports: { http: given('http-port'), rpc: given('rpc-port') },
    server: {
      enabled: given('server'),
      bootstrapExpect: given('bootstrap-expect'),
      serverJoin: { retryJoin: nonEmpty(flags['retry-join']) },
    },
    client: {
      enabled: given('client'),
      servers: nonEmpty(flags.servers),
      nodeClass: given('node-class'),
      nodePool: given('node-pool'),
      meta: flags.meta.length > 0 ? Object.fromEntries(flags.meta.map(splitKeyValue)) : undefined,
    },
    acl: { enabled: given('acl-enabled') },
  };
  return { config: pruneUndefined(config), configPaths: flags.config, dev: flags.dev, args, helpRequested };
}

function splitKeyValue(s: string): [string, string] {
  const eq = s.indexOf('=');
  return [s.slice(0, eq), s.slice(eq + 1)];
}
