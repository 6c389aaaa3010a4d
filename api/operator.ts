/** `/v1/operator/*`, like Nomad's `api.Operator()`: raft peers and the scheduler configuration. */
import type { HttpApi } from './http.js';
import type { QueryOptions, QueryResult, WriteOptions, WriteResult } from './query.js';

/** One server in GET /v1/operator/raft/configuration. */
export interface RaftServer {
  ID: string;
  Node: string;
  Address: string;
  Leader: boolean;
  Voter: boolean;
  RaftProtocol: string;
}

export interface RaftConfiguration {
  Index: number;
  Servers: RaftServer[];
}

export interface PreemptionConfig {
  SystemSchedulerEnabled: boolean;
  SysBatchSchedulerEnabled: boolean;
  BatchSchedulerEnabled: boolean;
  ServiceSchedulerEnabled: boolean;
}

export type SchedulerAlgorithm = 'binpack' | 'spread';

export interface SchedulerConfiguration {
  SchedulerAlgorithm: SchedulerAlgorithm;
  PreemptionConfig: PreemptionConfig;
  MemoryOversubscriptionEnabled: boolean;
  RejectJobRegistration: boolean;
  PauseEvalBroker: boolean;
  CreateIndex?: number;
  ModifyIndex?: number;
}

export interface SchedulerConfigurationResponse {
  SchedulerConfig: SchedulerConfiguration | null;
  Index?: number;
}

export interface SchedulerSetConfigurationResponse {
  /** False when a check-and-set (`cas`) index did not match. */
  Updated: boolean;
  Index?: number;
}

export class Operator {
  constructor(private readonly http: HttpApi) {}

  raftConfiguration(opts?: QueryOptions): Promise<QueryResult<RaftConfiguration>> {
    return this.http.query('/v1/operator/raft/configuration', opts);
  }

  schedulerConfiguration(opts?: QueryOptions): Promise<QueryResult<SchedulerConfigurationResponse>> {
    return this.http.query('/v1/operator/scheduler/configuration', opts);
  }

  /** PUT the whole configuration; with `casIndex` the server applies it only at that modify index. */
  updateSchedulerConfiguration(
    config: SchedulerConfiguration,
    opts?: WriteOptions & { casIndex?: number },
  ): Promise<WriteResult<SchedulerSetConfigurationResponse>> {
    const params = { ...opts?.params, ...(opts?.casIndex !== undefined ? { cas: String(opts.casIndex) } : {}) };
    return this.http.write('PUT', '/v1/operator/scheduler/configuration', config, { ...opts, params });
  }

  /** DELETE /v1/operator/raft/peer: remove a server from Raft by ID or by address. */
  raftRemovePeer(peer: { id?: string; address?: string }, opts?: WriteOptions): Promise<WriteResult<null>> {
    const params = { ...opts?.params, ...(peer.id !== undefined ? { id: peer.id } : {}), ...(peer.address !== undefined ? { address: peer.address } : {}) };
    return this.http.write('DELETE', '/v1/operator/raft/peer', undefined, { ...opts, params });
  }

  /** PUT /v1/operator/raft/transfer-leadership: to a given server, or the most up-to-date one. */
  raftTransferLeadership(peer: { id?: string; address?: string }, opts?: WriteOptions): Promise<WriteResult<{ Leader: string }>> {
    const params = { ...opts?.params, ...(peer.id !== undefined ? { id: peer.id } : {}), ...(peer.address !== undefined ? { address: peer.address } : {}) };
    return this.http.write('PUT', '/v1/operator/raft/transfer-leadership', undefined, { ...opts, params });
  }
}
