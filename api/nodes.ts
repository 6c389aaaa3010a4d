/** `/v1/nodes` and `/v1/node/:id`, like Nomad's `api.Nodes()`. */
import type { Allocation } from '../structs/alloc.js';
import type { Node, NodeListStub } from '../structs/node.js';
import type { HttpApi } from './http.js';
import type { QueryOptions, QueryResult } from './query.js';

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
}
