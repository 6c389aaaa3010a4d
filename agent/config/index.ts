/**
 * agent/config: the agent's configuration, read as Nomad reads its own: HCL or JSON files
 * with the same stanzas, and the same command-line flags. It imports only structs/ and the
 * HCL parser; the rest of the agent takes the resolved AgentConfig and nothing else from here.
 *
 * Entry point: `resolveAgentConfig(argv)`. The pieces (files, flags, merge) are exported for
 * the CLI's help text and for tools that validate a config without starting an agent.
 */
export type {
  AclConfig,
  AddressSet,
  AgentConfig,
  ClientConfig,
  DrainOnShutdownConfig,
  HostVolumeConfig,
  LimitsConfig,
  LogLevel,
  PartialAgentConfig,
  PortSet,
  ReservedConfig,
  ServerConfig,
  ServerJoinConfig,
  TelemetryConfig,
  TlsConfig,
  TlsVersion,
} from './agent-config.js';
export { defaultAgentConfig, devModeLayer } from './agent-config.js';
export type { AgentFlags } from './agent-flags.js';
export { agentFlagSpec, configFromFlags } from './agent-flags.js';
export { expandConfigPaths, loadConfigFiles } from './config-files.js';
export { mergeConfigAt } from './config-merge.js';
export { parseDurationMs } from './duration.js';
export type { ResolveOptions } from './resolve-config.js';
export { resolveAgentConfig } from './resolve-config.js';
