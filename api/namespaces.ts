/** `/v1/namespaces` and `/v1/namespace/:name`, like Nomad's `api.Namespaces()`. */
import type { Namespace } from '../structs/acl.js';
import type { HttpApi } from './http.js';
import type { QueryOptions, QueryResult, WriteOptions, WriteResult } from './query.js';

export interface NamespaceInput {
  Name: string;
  Description?: string;
  Meta?: Record<string, string>;
}

const seg = encodeURIComponent;

export class Namespaces {
  constructor(private readonly http: HttpApi) {}

  list(opts?: QueryOptions): Promise<QueryResult<Namespace[]>> {
    return this.http.query('/v1/namespaces', opts);
  }

  info(name: string, opts?: QueryOptions): Promise<QueryResult<Namespace>> {
    return this.http.query(`/v1/namespace/${seg(name)}`, opts);
  }

  register(ns: NamespaceInput, opts?: WriteOptions): Promise<WriteResult<null>> {
    return this.http.write('POST', `/v1/namespace/${seg(ns.Name)}`, ns, opts);
  }

  delete(name: string, opts?: WriteOptions): Promise<WriteResult<null>> {
    return this.http.write('DELETE', `/v1/namespace/${seg(name)}`, undefined, opts);
  }
}
