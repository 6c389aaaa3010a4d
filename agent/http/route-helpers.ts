/**
 * Small pieces every route module uses: the server requirement and the namespace parameter.
 */
import { YurtError } from '../../structs/errors.js';
import type { ServerEndpoints } from '../server/endpoints.js';
import type { Server } from '../server/server.js';
import type { ApiContext } from './api-context.js';
import type { RequestContext } from './http-router.js';

export function needServer(ctx: ApiContext): Server {
  if (!ctx.server) throw new YurtError('unavailable', 'this agent is not a server; point the request at a server');
  return ctx.server;
}

export function needEndpoints(ctx: ApiContext): ServerEndpoints {
  if (!ctx.endpoints) throw new YurtError('unavailable', 'this agent is not a server; point the request at a server');
  return ctx.endpoints;
}

export function namespaceOf(rc: RequestContext): string {
  const ns = rc.query.get('namespace');
  return ns === null || ns === '' ? 'default' : ns;
}

/**
 * Whether an object in `ns` belongs in a list answer. Lists of allocations and evaluations
 * span every namespace unless the request names one, as yurt's CLI always has.
 */
export function inNamespace(rc: RequestContext, ns: string): boolean {
  const want = rc.query.get('namespace');
  return want === null || want === '' || want === '*' || want === ns;
}

/**
 * The JSON body of a request where Nomad's body is optional (evaluate, alloc stop): none
 * when the client sent nothing, else it must be a JSON object, so malformed input is a 400
 * rather than silently ignored.
 */
export async function optionalBody(rc: RequestContext): Promise<Record<string, unknown> | undefined> {
  const len = rc.req.headers['content-length'];
  if ((len === undefined || len === '0') && rc.req.headers['transfer-encoding'] === undefined) return undefined;
  let body: unknown;
  try {
    body = await rc.body();
  } catch (e) {
    if (e instanceof YurtError && e.message === 'Request body is empty') return undefined;
    throw e;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new YurtError('invalid_argument', 'request body must be a JSON object');
  return body as Record<string, unknown>;
}
