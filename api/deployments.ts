/** `/v1/deployments` and `/v1/deployment/:id`, like Nomad's `api.Deployments()`. */
import type { HttpApi } from './http.js';
import type { QueryOptions, QueryResult } from './query.js';
import type { Deployment } from './scaling.js';

export class Deployments {
  constructor(private readonly http: HttpApi) {}

  list(opts?: QueryOptions): Promise<QueryResult<Deployment[]>> {
    return this.http.query('/v1/deployments', opts);
  }

  info(id: string, opts?: QueryOptions): Promise<QueryResult<Deployment>> {
    return this.http.query(`/v1/deployment/${encodeURIComponent(id)}`, opts);
  }
}
