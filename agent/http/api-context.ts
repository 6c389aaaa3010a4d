/**
 * What the HTTP handlers need from the agent they run in: the server's state and endpoints
 * (when this agent is a server), the local client (for logs), and agent facts.
 */
import type { Client } from '../client/client.js';
import type { ServerEndpoints } from '../server/endpoints.js';
import type { Server } from '../server/server.js';

export interface AgentMember {
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string>;
  Status: 'alive' | 'left' | 'failed';
  ProtocolMin: number;
  ProtocolMax: number;
  ProtocolCur: number;
  DelegateMin: number;
  DelegateMax: number;
  DelegateCur: number;
}

export interface ApiContext {
  server: Server | null;
  endpoints: ServerEndpoints | null;
  client: Client | null;
  region: string;
  datacenter: string;
  nodeName: string;
  version: string;
  members(): AgentMember[];
  /** The agent's effective configuration, for /v1/agent/self. */
  config(): unknown;
}
