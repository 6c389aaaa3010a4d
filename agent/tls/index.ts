/**
 * Mutual TLS for the agent: load and check the certificate files of the `tls` stanza, build
 * the Node TLS options of the HTTPS, RPC and Raft listeners and dialers, and tell which role
 * (server, client, cli) a peer's certificate grants. Imports only structs/ and agent/config.
 */
export { agentRoles, allowRoles, certificateNames, peerRole, roleName, TLS_DOMAIN } from './peer-role.js';
export type { AgentRole } from './peer-role.js';
export { loadTlsMaterial, tlsEnabled } from './tls-material.js';
export type { TlsAgentConfig, TlsMaterial } from './tls-material.js';
export { expectedServerName, httpsServerOptions, rpcClientOptions, rpcServerOptions, tlsMinVersion, wsClientOptions } from './tls-options.js';
