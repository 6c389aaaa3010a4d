/**
 * /v1/acl/* and /v1/namespace(s) — Nomad's ACL and namespace endpoints
 * (https://developer.hashicorp.com/nomad/api-docs/acl, .../api-docs/namespaces).
 *
 * Who may call each route is checked before the handler runs (agent/acl/request-guard.ts);
 * the handlers here only narrow what a non-management token sees: its own token, the
 * policies it holds, the namespaces it has some capability in. Token secrets are returned
 * only by bootstrap, token create/update and token reads, as in Nomad.
 */
import type { Logger } from 'pino';
import {
  ANONYMOUS_POLICY,
  policyStub,
  tokenStub,
  type ACLToken,
} from '../../structs/acl.js';
import { YurtError } from '../../structs/errors.js';
import { identityOf, requestSecret } from '../acl/request-guard.js';
import type { Identity } from '../acl/token-resolver.js';
import { AclEndpoints, type NamespaceRequest, type PolicyRequest, type TokenRequest } from '../server/acl-endpoints.js';
import type { Server } from '../server/server.js';
import type { ApiContext } from './api-context.js';
import type { RequestContext, Route } from './http-router.js';
import { needServer } from './route-helpers.js';

/** Nomad's AnonymousACLToken: what `token/self` shows for a request without a token. */
const ANONYMOUS_TOKEN: ACLToken = {
  AccessorID: 'anonymous',
  SecretID: 'anonymous',
  Name: 'Anonymous Token',
  Type: 'client',
  Policies: [ANONYMOUS_POLICY],
  Global: false,
  CreateTime: new Date(0).toISOString(),
  ExpirationTime: null,
  CreateIndex: 0,
  ModifyIndex: 0,
};

function isManagement(id: Identity | undefined): boolean {
  return id === undefined || id.acl.isManagement;
}

async function optionalBody(rc: RequestContext): Promise<Record<string, unknown>> {
  const len = rc.req.headers['content-length'];
  if ((len === undefined || len === '0') && rc.req.headers['transfer-encoding'] === undefined) return {};
  const body = await rc.body();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new YurtError('invalid_argument', 'request body must be a JSON object');
  return body as Record<string, unknown>;
}

async function objectBody(rc: RequestContext): Promise<Record<string, unknown>> {
  const body = await rc.body();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new YurtError('invalid_argument', 'request body must be a JSON object');
  return body as Record<string, unknown>;
}

export function aclRoutes(ctx: ApiContext, logger: Logger, aclEnabled: boolean): Route[] {
  let endpoints: AclEndpoints | null = null;
  const acl = (): AclEndpoints => {
    const server: Server = needServer(ctx);
    endpoints ??= new AclEndpoints(server, logger.child({ component: 'acl' }), { aclEnabled });
    return endpoints;
  };
  /**
   * The caller as the guard resolved it; undefined (everything allowed) only while ACLs are
   * off. With ACLs on a missing identity means the route skipped the guard: refuse.
   */
  const who = (rc: RequestContext): Identity | undefined => {
    const id = identityOf(rc.req);
    if (aclEnabled && id === undefined) throw new YurtError('permission_denied', 'Permission denied');
    return id;
  };
  /** Nomad answers every ACL endpoint so while ACLs are off. */
  const needAcl = (): void => {
    if (!aclEnabled) throw new YurtError('invalid_argument', 'ACL support disabled');
  };

  const aclRoutesList: Route[] = [
    {
      method: 'POST',
      path: '/v1/acl/bootstrap',
      handler: async (rc) => {
        needAcl();
        const body = await optionalBody(rc);
        const secret = body['BootstrapSecret'];
        if (secret !== undefined && typeof secret !== 'string') throw new YurtError('invalid_argument', 'BootstrapSecret must be a string');
        const token = await acl().bootstrap(secret);
        return { json: token, index: token.ModifyIndex };
      },
    },
    {
      method: 'GET',
      path: '/v1/acl/policies',
      tables: ['acl_policies'],
      handler: (rc) => {
        needAcl();
        const id = who(rc);
        const held = new Set(id?.token ? id.token.Policies : [ANONYMOUS_POLICY]);
        const all = needServer(ctx).state.aclPolicies(rc.query.get('prefix') ?? '');
        return { json: all.filter((p) => isManagement(id) || held.has(p.Name)).map(policyStub) };
      },
    },
    {
      method: 'GET',
      path: '/v1/acl/policy/:name',
      tables: ['acl_policies'],
      handler: (rc) => {
        needAcl();
        const name = rc.params['name']!;
        const id = who(rc);
        const held = id?.token ? id.token.Policies : [ANONYMOUS_POLICY];
        if (!isManagement(id) && !held.includes(name)) throw new YurtError('permission_denied', 'Permission denied');
        const p = needServer(ctx).state.aclPolicy(name);
        if (!p) throw new YurtError('not_found', 'ACL policy not found');
        return { json: p };
      },
    },
    {
      method: 'POST',
      path: '/v1/acl/policy/:name',
      handler: async (rc) => {
        needAcl();
        const body = await objectBody(rc);
        const name = rc.params['name']!;
        if (body['Name'] !== undefined && body['Name'] !== name) throw new YurtError('invalid_argument', 'ACL policy name does not match request path');
        const r = await acl().upsertPolicy({ ...(body as unknown as PolicyRequest), Name: name }, requestSecret(rc.req));
        return { json: null, index: r.Index };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/acl/policy/:name',
      handler: async (rc) => {
        needAcl();
        const r = await acl().deletePolicy(rc.params['name']!, requestSecret(rc.req));
        return { json: null, index: r.Index };
      },
    },
    {
      method: 'GET',
      path: '/v1/acl/tokens',
      tables: ['acl_tokens'],
      handler: (rc) => {
        needAcl();
        return { json: needServer(ctx).state.aclTokens(rc.query.get('prefix') ?? '').map(tokenStub) };
      },
    },
    {
      method: 'POST',
      path: '/v1/acl/token',
      handler: async (rc) => {
        needAcl();
        const body = await objectBody(rc);
        if (body['AccessorID'] !== undefined && body['AccessorID'] !== '') throw new YurtError('invalid_argument', 'AccessorID must not be set when creating a token');
        const token = await acl().upsertToken(body, requestSecret(rc.req));
        return { json: token, index: token.ModifyIndex };
      },
    },
    {
      method: 'GET',
      path: '/v1/acl/token/self',
      tables: ['acl_tokens'],
      handler: (rc) => {
        needAcl();
        const id = who(rc);
        return { json: id?.token ?? ANONYMOUS_TOKEN };
      },
    },
    {
      method: 'GET',
      path: '/v1/acl/token/:accessor',
      tables: ['acl_tokens'],
      handler: (rc) => {
        needAcl();
        const accessor = rc.params['accessor']!;
        const id = who(rc);
        if (!isManagement(id) && id?.token?.AccessorID !== accessor) throw new YurtError('permission_denied', 'Permission denied');
        const t = needServer(ctx).state.aclTokenByAccessor(accessor);
        if (!t) throw new YurtError('not_found', 'ACL token not found');
        return { json: t };
      },
    },
    {
      method: 'POST',
      path: '/v1/acl/token/:accessor',
      handler: async (rc) => {
        needAcl();
        const body = await objectBody(rc);
        const accessor = rc.params['accessor']!;
        if (body['AccessorID'] !== undefined && body['AccessorID'] !== accessor) throw new YurtError('invalid_argument', 'AccessorID does not match request path');
        const token = await acl().upsertToken({ ...(body as TokenRequest), AccessorID: accessor }, requestSecret(rc.req));
        return { json: token, index: token.ModifyIndex };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/acl/token/:accessor',
      handler: async (rc) => {
        needAcl();
        const r = await acl().deleteToken(rc.params['accessor']!, requestSecret(rc.req));
        return { json: null, index: r.Index };
      },
    },
  ];

  const upsertNamespace = async (rc: RequestContext): Promise<{ json: null; index: number }> => {
    const body = await objectBody(rc);
    const fromPath = rc.params['name'];
    if (fromPath !== undefined && body['Name'] !== undefined && body['Name'] !== fromPath) throw new YurtError('invalid_argument', 'Namespace name does not match request path');
    const r = await acl().upsertNamespace({ ...(body as unknown as NamespaceRequest), Name: (fromPath ?? body['Name']) as string }, requestSecret(rc.req));
    return { json: null, index: r.Index };
  };

  const namespaceRoutes: Route[] = [
    {
      method: 'GET',
      path: '/v1/namespaces',
      tables: ['namespaces'],
      handler: (rc) => {
        const id = who(rc);
        const all = needServer(ctx).state.namespaces(rc.query.get('prefix') ?? '');
        return { json: all.filter((n) => id === undefined || id.acl.allowNamespace(n.Name)) };
      },
    },
    {
      method: 'GET',
      path: '/v1/namespace/:name',
      tables: ['namespaces'],
      handler: (rc) => {
        const ns = needServer(ctx).state.namespace(rc.params['name']!);
        if (!ns) throw new YurtError('not_found', 'namespace not found');
        return { json: ns };
      },
    },
    { method: 'POST', path: '/v1/namespace', handler: upsertNamespace },
    { method: 'POST', path: '/v1/namespace/:name', handler: upsertNamespace },
    {
      method: 'DELETE',
      path: '/v1/namespace/:name',
      handler: async (rc) => {
        const r = await acl().deleteNamespace(rc.params['name']!, requestSecret(rc.req));
        return { json: null, index: r.Index };
      },
    },
  ];

  return [...aclRoutesList, ...namespaceRoutes];
}
