/**
 * `/v1/acl/*`, like Nomad's `api.ACLPolicies()`, `api.ACLTokens()` and the bootstrap call.
 * Build them over any client: `new AclTokens(client)`.
 */
import type { ACLPolicy, ACLPolicyListStub, ACLToken, ACLTokenListStub } from '../structs/acl.js';
import type { HttpApi } from './http.js';
import type { QueryOptions, QueryResult, WriteOptions, WriteResult } from './query.js';

/** A policy as written: the server stamps the indexes. */
export interface ACLPolicyInput {
  Name: string;
  Description?: string;
  Rules: string;
}

/** A token create or update request. `ExpirationTTL` is nanoseconds or a Go duration ("1h"). */
export interface ACLTokenInput {
  AccessorID?: string;
  Name?: string;
  Type?: 'client' | 'management';
  Policies?: string[];
  Global?: boolean;
  ExpirationTTL?: number | string;
  ExpirationTime?: string | null;
}

const seg = encodeURIComponent;

export class AclPolicies {
  constructor(private readonly http: HttpApi) {}

  list(opts?: QueryOptions): Promise<QueryResult<ACLPolicyListStub[]>> {
    return this.http.query('/v1/acl/policies', opts);
  }

  info(name: string, opts?: QueryOptions): Promise<QueryResult<ACLPolicy>> {
    return this.http.query(`/v1/acl/policy/${seg(name)}`, opts);
  }

  upsert(policy: ACLPolicyInput, opts?: WriteOptions): Promise<WriteResult<null>> {
    return this.http.write('POST', `/v1/acl/policy/${seg(policy.Name)}`, policy, opts);
  }

  delete(name: string, opts?: WriteOptions): Promise<WriteResult<null>> {
    return this.http.write('DELETE', `/v1/acl/policy/${seg(name)}`, undefined, opts);
  }
}

export class AclTokens {
  constructor(private readonly http: HttpApi) {}

  /** The first management token; the servers accept this once. */
  bootstrap(bootstrapSecret?: string, opts?: WriteOptions): Promise<WriteResult<ACLToken>> {
    return this.http.write('POST', '/v1/acl/bootstrap', bootstrapSecret !== undefined ? { BootstrapSecret: bootstrapSecret } : undefined, opts);
  }

  list(opts?: QueryOptions): Promise<QueryResult<ACLTokenListStub[]>> {
    return this.http.query('/v1/acl/tokens', opts);
  }

  create(token: ACLTokenInput, opts?: WriteOptions): Promise<WriteResult<ACLToken>> {
    return this.http.write('POST', '/v1/acl/token', token, opts);
  }

  update(token: ACLTokenInput & { AccessorID: string }, opts?: WriteOptions): Promise<WriteResult<ACLToken>> {
    return this.http.write('POST', `/v1/acl/token/${seg(token.AccessorID)}`, token, opts);
  }

  info(accessorId: string, opts?: QueryOptions): Promise<QueryResult<ACLToken>> {
    return this.http.query(`/v1/acl/token/${seg(accessorId)}`, opts);
  }

  /** The token this client sends. */
  self(opts?: QueryOptions): Promise<QueryResult<ACLToken>> {
    return this.http.query('/v1/acl/token/self', opts);
  }

  delete(accessorId: string, opts?: WriteOptions): Promise<WriteResult<null>> {
    return this.http.write('DELETE', `/v1/acl/token/${seg(accessorId)}`, undefined, opts);
  }
}
