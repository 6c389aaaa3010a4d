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
