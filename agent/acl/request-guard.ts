/**
 * The HTTP server's authorization hook. For each request, before its handler runs:
 *   - jobs may only be submitted into namespaces that exist (always, ACLs or not);
 *   - with ACLs enabled, the token (`X-Nomad-Token`, or `Authorization: Bearer`) is resolved,
 *     the namespaces the route touches are worked out (query, job body, or the allocation or
 *     evaluation it names) and the route's permission is checked; the resolved identity is
 *     kept for the handlers that filter what a token may see (identityOf).
 */
import type { IncomingMessage } from 'node:http';
import { DEFAULT_NAMESPACE } from '../../structs/acl.js';
import { YurtError } from '../../structs/errors.js';
import type { StateReader } from '../server/state/state-reader.js';
import { allowed, PERMISSION_DENIED } from './authorize.js';
import { permissionFor, type NamespaceSource } from './route-permissions.js';
import { TokenResolver, type Identity, type IdentityResolver } from './token-resolver.js';

/** What the hook needs to see of a request (the router's RequestContext satisfies it). */
export interface GuardedRequest {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  body(): Promise<unknown>;
}

export type RequestGuard = (route: { method: string; path: string }, rc: GuardedRequest) => Promise<void>;

const identities = new WeakMap<IncomingMessage, Identity>();

/**
 * The identity the guard resolved for a request; undefined when ACLs are disabled, in which
 * case the caller may do everything.
 */
export function identityOf(req: IncomingMessage): Identity | undefined {
  return identities.get(req);
}

/** The secret a request carries: `X-Nomad-Token`, else an `Authorization: Bearer` token. */
export function requestSecret(req: IncomingMessage): string | undefined {
  const header = req.headers['x-nomad-token'];
  const direct = Array.isArray(header) ? header[0] : header;
  if (direct !== undefined && direct !== '') return direct.trim();
  const auth = req.headers.authorization;
  const m = auth === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(auth);
  return m?.[1];
}

/** `acl.enabled` of an agent config (ApiContext.config() gives it untyped). */
export function aclEnabledIn(config: unknown): boolean {
  if (typeof config !== 'object' || config === null) return false;
  const acl = (config as { acl?: unknown }).acl;
  return typeof acl === 'object' && acl !== null && (acl as { enabled?: unknown }).enabled === true;
}

const SUBMIT_ROUTES = new Set(['POST /v1/jobs', 'POST /v1/job/:id', 'POST /v1/job/:id/plan']);

export interface RequestGuardOptions {
  /** The server's state; null on an agent that is not a server. */
  state: StateReader | null;
  aclEnabled: boolean;
  nowMs?: () => number;
  /**
   * Resolves tokens where there is no state to read them from: a client-only agent asks the
   * servers (remote-token-resolver.ts). A server resolves from its own state.
   */
  resolver?: IdentityResolver;
  /** The namespace of an allocation this agent's client runs, for agents without state. */
  allocNamespace?: (allocId: string) => string | undefined;
}

/**
 * The guard for an agent. A server resolves tokens from its state; a client-only agent with
 * ACLs enabled through `resolver`, and then serves the routes about its own allocations
 * (logs, files, exec, stats, restart, signal); without either it serves only public routes.
 */
export function requestGuard(opts: RequestGuardOptions): RequestGuard {
  const state = opts.state;
  const resolver = state ? new TokenResolver(state, opts.nowMs) : (opts.resolver ?? null);
  return async (route, rc) => {
    const key = `${route.method} ${route.path}`;
    const permission = permissionFor(route.method, route.path);
    if (state && SUBMIT_ROUTES.has(key)) {
      for (const n of await namespacesOf(state, opts.allocNamespace, permission.kind === 'namespace' ? permission.from : 'job-body', rc)) {
        if (!state.namespace(n)) throw new YurtError('invalid_argument', `nonexistent namespace "${n}"`);
      }
    }
    if (!opts.aclEnabled || permission.kind === 'public') return;
    if (!resolver) throw new YurtError('unavailable', 'ACLs are enabled and this agent is not a server: send the request to a server');
    const identity = await resolver.resolve(requestSecret(rc.req));
    identities.set(rc.req, identity);
    const namespaces = permission.kind === 'namespace' || permission.kind === 'namespace-any' ? await namespacesOf(state, opts.allocNamespace, permission.from, rc) : [];
    if (!allowed(permission, identity.acl, namespaces)) throw new YurtError('permission_denied', PERMISSION_DENIED);
  };
}

function queryNamespace(rc: GuardedRequest): string | undefined {
  const ns = rc.query.get('namespace');
  return ns === null || ns === '' ? undefined : ns;
}

/**
 * The namespaces a request acts in; `?namespace=*` means every namespace there is, which
 * only a server knows.
 */
async function namespacesOf(
  state: StateReader | null,
  localAllocNamespace: ((allocId: string) => string | undefined) | undefined,
  from: NamespaceSource,
  rc: GuardedRequest,
): Promise<string[]> {
  const firstParam = Object.values(rc.params)[0] ?? '';
  switch (from) {
    case 'query':
    case 'query-or-all': {
      const q = queryNamespace(rc) ?? (from === 'query' ? DEFAULT_NAMESPACE : '*');
      if (q !== '*') return [q];
      if (!state) throw new YurtError('unavailable', 'this agent is not a server and does not know every namespace: send the request to a server');
      return state.namespaces().map((n) => n.Name);
    }
    case 'job-body':
    case 'job-body-strict': {
      const jobNs = bodyJobNamespace(await rc.body());
      // The handlers apply `?namespace=` only to a job that names no namespace of its own.
      if (from === 'job-body' && (jobNs === undefined || jobNs === DEFAULT_NAMESPACE)) return [queryNamespace(rc) ?? DEFAULT_NAMESPACE];
      return [jobNs ?? DEFAULT_NAMESPACE];
    }
    case 'alloc':
      return [state?.allocById(firstParam)?.Namespace ?? localAllocNamespace?.(firstParam) ?? queryNamespace(rc) ?? DEFAULT_NAMESPACE];
    case 'eval':
      return [state?.evalById(firstParam)?.Namespace ?? queryNamespace(rc) ?? DEFAULT_NAMESPACE];
    case 'path':
      return [rc.params['name'] ?? firstParam];
  }
}

/** `{"Job": {"Namespace": ...}}` or a bare job; undefined when the body names none. */
function bodyJobNamespace(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const job = typeof b['Job'] === 'object' && b['Job'] !== null ? (b['Job'] as Record<string, unknown>) : b;
  const ns = job['Namespace'];
  return typeof ns === 'string' && ns !== '' ? ns : undefined;
}
