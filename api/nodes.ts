/** `/v1/nodes` and `/v1/node/:id`, like Nomad's `api.Nodes()`. */
import type { Allocation } from '../structs/alloc.js';
import type { Node, NodeListStub } from '../structs/node.js';
import type { HttpApi } from './http.js';
import type { QueryOptions, QueryResult, WriteOptions, WriteResult } from './query.js';

/** Nomad's DrainSpec: how long allocations may take to migrate, and whether system jobs stay. */
export interface DrainSpec {
  /** Nanoseconds; 0 means no deadline, -1 forces every allocation off at once. */
  Deadline: number;
  IgnoreSystemJobs: boolean;
}

/** Nomad's NodeDrainUpdateResponse / NodeEligibilityUpdateResponse. */
export interface NodeUpdateResponse {
  EvalIDs: string[] | null;
  EvalCreateIndex: number;
  NodeModifyIndex: number;
  Index?: number;
}

export class Nodes {
  constructor(private readonly http: HttpApi) {}

  list(opts?: QueryOptions): Promise<QueryResult<NodeListStub[]>> {
    return this.http.query('/v1/nodes', opts);
  }

  prefixList(prefix: string, opts?: QueryOptions): Promise<QueryResult<NodeListStub[]>> {
    return this.list({ ...opts, prefix });
  }

  info(id: string, opts?: QueryOptions): Promise<QueryResult<Node>> {
    return this.http.query(`/v1/node/${encodeURIComponent(id)}`, opts);
  }

  allocations(id: string, opts?: QueryOptions): Promise<QueryResult<Allocation[]>> {
    return this.http.query(`/v1/node/${encodeURIComponent(id)}/allocations`, opts);
  }

  /** POST /v1/node/:id/drain; a null spec ends the drain (`markEligible` re-enables scheduling). */
  updateDrain(id: string, spec: DrainSpec | null, markEligible: boolean, opts?: WriteOptions): Promise<WriteResult<NodeUpdateResponse>> {
    const body = { NodeID: id, DrainSpec: spec, MarkEligible: markEligible };
    return this.http.write('POST', `/v1/node/${encodeURIComponent(id)}/drain`, body, opts);
  }

  /** POST /v1/node/:id/eligibility. */
  updateEligibility(id: string, eligible: boolean, opts?: WriteOptions): Promise<WriteResult<NodeUpdateResponse>> {
    const body = { NodeID: id, Eligibility: eligible ? 'eligible' : 'ineligible' };
    return this.http.write('POST', `/v1/node/${encodeURIComponent(id)}/eligibility`, body, opts);
  }
}
