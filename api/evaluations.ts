/** `/v1/evaluations` and `/v1/evaluation/:id`, like Nomad's `api.Evaluations()`. */
import type { AllocListStub } from '../structs/alloc.js';
import type { Evaluation } from '../structs/eval.js';
import type { HttpApi } from './http.js';
import type { QueryOptions, QueryResult } from './query.js';

export class Evaluations {
  constructor(private readonly http: HttpApi) {}

  list(opts?: QueryOptions): Promise<QueryResult<Evaluation[]>> {
    return this.http.query('/v1/evaluations', opts);
  }

  prefixList(prefix: string, opts?: QueryOptions): Promise<QueryResult<Evaluation[]>> {
    return this.list({ ...opts, prefix });
  }

  /** GET /v1/evaluations/count: how many evaluations match `opts.filter` (all when unset). */
  count(opts?: QueryOptions): Promise<QueryResult<{ Count: number }>> {
    return this.http.query('/v1/evaluations/count', opts);
  }

  info(id: string, opts?: QueryOptions): Promise<QueryResult<Evaluation>> {
    return this.http.query(`/v1/evaluation/${encodeURIComponent(id)}`, opts);
  }

  allocations(id: string, opts?: QueryOptions): Promise<QueryResult<AllocListStub[]>> {
    return this.http.query(`/v1/evaluation/${encodeURIComponent(id)}/allocations`, opts);
  }
}
