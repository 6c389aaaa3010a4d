/** `/v1/allocations` and `/v1/allocation/:id`, like Nomad's `api.Allocations()`. */
import type { AllocListStub, Allocation } from '../structs/alloc.js';
import type { HttpApi } from './http.js';
import type { QueryOptions, QueryResult } from './query.js';

export class Allocations {
  constructor(private readonly http: HttpApi) {}

  list(opts?: QueryOptions): Promise<QueryResult<AllocListStub[]>> {
    return this.http.query('/v1/allocations', opts);
  }

  prefixList(prefix: string, opts?: QueryOptions): Promise<QueryResult<AllocListStub[]>> {
    return this.list({ ...opts, prefix });
  }

  info(id: string, opts?: QueryOptions): Promise<QueryResult<Allocation>> {
    return this.http.query(`/v1/allocation/${encodeURIComponent(id)}`, opts);
  }
}
