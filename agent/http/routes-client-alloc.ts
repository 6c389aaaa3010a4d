/**
 * Nomad's client allocation endpoints: `POST /v1/client/allocation/:id/restart`
 * (`{TaskName, AllTasks}`), `POST /v1/client/allocation/:id/signal` (`{Task, Signal}`) and
 * `GET /v1/client/allocation/:id/stats` (an AllocResourceUsage). The agent whose client runs
 * the allocation answers; any other agent that is a server forwards the request to the node's
 * HTTP address, as the logs endpoint does, so users may ask any agent.
 */
import { ValidationError, YurtError, type FieldError } from '../../structs/errors.js';
import type { ApiContext } from './api-context.js';
import type { HandlerResult, RequestContext, Route } from './http-router.js';
import { callerCredentials, relayAnswer, requestNode } from './routes-client-fs.js';

export function clientAllocRoutes(ctx: ApiContext): Route[] {
  return [
    { method: 'POST', path: '/v1/client/allocation/:alloc/restart', handler: (rc) => restart(ctx, rc) },
    { method: 'POST', path: '/v1/client/allocation/:alloc/signal', handler: (rc) => signal(ctx, rc) },
    { method: 'GET', path: '/v1/client/allocation/:alloc/stats', handler: (rc) => stats(ctx, rc) },
  ];
}

async function restart(ctx: ApiContext, rc: RequestContext): Promise<HandlerResult> {
  const body = bodyObject(await rc.body());
  const errors: FieldError[] = [];
  const task = optionalString(body, 'TaskName', errors);
  const all = body['AllTasks'];
  if (all !== undefined && all !== null && typeof all !== 'boolean') errors.push({ path: 'AllTasks', message: 'must be a boolean' });
  if (task !== undefined && task !== '' && all === true) errors.push({ path: 'AllTasks', message: 'cannot be combined with TaskName' });
  if (errors.length > 0) throw new ValidationError('restart request', errors);
  const id = rc.params['alloc']!;
  if (ctx.client?.hasAlloc(id)) {
    await ctx.client.restartAlloc(id, task === '' ? undefined : task);
    return { json: {} };
  }
  return forward(ctx, rc, id, body);
}

async function signal(ctx: ApiContext, rc: RequestContext): Promise<HandlerResult> {
  const body = bodyObject(await rc.body());
  const errors: FieldError[] = [];
  const task = optionalString(body, 'Task', errors);
  const sig = optionalString(body, 'Signal', errors);
  if (errors.length > 0) throw new ValidationError('signal request', errors);
  const id = rc.params['alloc']!;
  if (ctx.client?.hasAlloc(id)) {
    // Nomad's default signal for `alloc signal` without -s.
    await ctx.client.signalAlloc(id, task === '' ? undefined : task, sig === undefined || sig === '' ? 'SIGKILL' : sig);
    return { json: {} };
  }
  return forward(ctx, rc, id, body);
}

async function stats(ctx: ApiContext, rc: RequestContext): Promise<HandlerResult> {
  const id = rc.params['alloc']!;
  if (ctx.client?.hasAlloc(id)) return { json: await ctx.client.allocStats(id) };
  return forward(ctx, rc, id, undefined);
}

function bodyObject(v: unknown): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new YurtError('invalid_argument', 'request body must be a JSON object');
  return v as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, field: string, errors: FieldError[]): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    errors.push({ path: field, message: 'must be a string' });
    return undefined;
  }
  return v;
}

/** The allocation runs on another node: pass the request to that node's agent and relay its answer. */
async function forward(ctx: ApiContext, rc: RequestContext, allocId: string, body: Record<string, unknown> | undefined): Promise<HandlerResult> {
  const server = ctx.server;
  if (!server) throw new YurtError('not_found', `Unknown allocation "${allocId}"`);
  const alloc = server.state.allocById(allocId);
  if (!alloc) throw new YurtError('not_found', `Unknown allocation "${allocId}"`);
  if (ctx.client && ctx.client.nodeId() === alloc.NodeID) {
    // Ours, but collected or not yet received: nothing runs here to act on.
    throw new YurtError('not_found', `allocation ${allocId} is not running on this client`);
  }
  const node = server.state.nodeById(alloc.NodeID);
  if (!node?.HTTPAddr) throw new YurtError('unavailable', `node ${alloc.NodeID} has no HTTP address to forward the request to`);
  const upstream = await requestNode(ctx, alloc.NodeID, node.HTTPAddr, {
    method: rc.req.method ?? 'GET',
    path: rc.req.url ?? '',
    headers: { ...callerCredentials(rc.req), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    timeoutMs: 30_000,
  });
  return relayAnswer(upstream, rc);
}
