/** `/v1/agent/*`, like Nomad's `api.Agent()`. Shapes are Nomad's (serf member tags included). */
import type { HttpApi } from './http.js';
import type { QueryResult, WriteResult } from './query.js';

export interface AgentMember {
  Name: string;
  Addr: string;
  Port: number;
  /** Serf tags: role, region, dc, build, id, raft_vsn, port (the RPC port), ... */
  Tags: Record<string, string>;
  Status: string;
  ProtocolMin?: number;
  ProtocolMax?: number;
  ProtocolCur?: number;
  DelegateMin?: number;
  DelegateMax?: number;
  DelegateCur?: number;
}

export interface ServerMembers {
  ServerName: string;
  ServerRegion: string;
  ServerDC: string;
  Members: AgentMember[];
}

/** GET /v1/agent/self: the agent's config, its own member entry and stats; kept loose. */
export interface AgentSelf {
  config?: Record<string, unknown>;
  member?: AgentMember;
  stats?: Record<string, Record<string, string>>;
  [key: string]: unknown;
}

export class Agent {
  constructor(private readonly http: HttpApi) {}

  self(): Promise<QueryResult<AgentSelf>> {
    return this.http.query('/v1/agent/self');
  }

  members(): Promise<QueryResult<ServerMembers>> {
    return this.http.query('/v1/agent/members');
  }

  /** PUT /v1/agent/join: this server joins (or adds) the server at `address`. */
  join(address: string): Promise<WriteResult<{ num_joined: number; error: string }>> {
    return this.http.write('PUT', '/v1/agent/join', undefined, { params: { address } });
  }

  /** PUT /v1/agent/force-leave: remove a failed server by name. */
  forceLeave(node: string): Promise<WriteResult<null>> {
    return this.http.write('PUT', '/v1/agent/force-leave', undefined, { params: { node } });
  }
}
