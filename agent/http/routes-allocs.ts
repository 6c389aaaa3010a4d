/**
 * /v1/allocations, /v1/allocation/:id, /v1/evaluations, /v1/evaluation/:id — Nomad's
 * allocation and evaluation endpoints.
 */
import { allocStub } from '../../structs/alloc.js';
import { YurtError } from '../../structs/errors.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './http-router.js';
import { compileFilter } from './filter-expression.js';
import { listPage } from './list-query.js';
import { inNamespace, needServer, optionalBody } from './route-helpers.js';
import { allocView, evalView } from './wire-views.js';
import { nowNs } from '../server/server.js';

export function allocRoutes(ctx: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/allocations',
      tables: ['allocs'],
      handler: (rc) => ({ json: listPage(rc, needServer(ctx).state.allocs(rc.query.get('prefix') ?? '').filter((a) => inNamespace(rc, a.Namespace)), (a) => a.ID, allocStub) }),
    },
    {
      method: 'GET',
      path: '/v1/allocation/:id',
      tables: ['allocs'],
      handler: (rc) => {
        const a = needServer(ctx).state.allocById(rc.params['id']!);
        if (!a) throw new YurtError('not_found', 'alloc not found');
        return { json: allocView(a) };
      },
    },
    {
      method: 'POST',
      path: '/v1/allocation/:id/stop',
      handler: async (rc) => {
        const server = needServer(ctx);
        // Nomad's stop takes no body; one that is sent must at least be a JSON object.
        await optionalBody(rc);
        const a = server.state.allocById(rc.params['id']!);
        if (!a) throw new YurtError('not_found', 'alloc not found');
        const job = server.state.jobById(a.Namespace, a.JobID);
        const ev = job ? server.newEval(job, 'alloc-stop') : null;
        const r = await server.applyCommand({
          type: 'AllocDesiredUpdate',
          updates: [{ ID: a.ID, DesiredStatus: 'stop', DesiredDescription: 'alloc stopped by user', DesiredTransition: { Migrate: true } }],
          evals: ev ? [ev] : [],
          now: nowNs(),
        });
        const index = r !== null && 'index' in r ? r.index : 0;
        return { json: { EvalID: ev?.ID ?? '', Index: index }, index };
      },
    },
    {
      method: 'GET',
      path: '/v1/evaluations',
      tables: ['evals'],
      handler: (rc) => ({ json: listPage(rc, needServer(ctx).state.evals(rc.query.get('prefix') ?? '').filter((e) => inNamespace(rc, e.Namespace)), (e) => e.ID, evalView) }),
    },
    {
      method: 'GET',
      path: '/v1/evaluations/count',
      tables: ['evals'],
      handler: (rc) => {
        const evals = needServer(ctx).state.evals(rc.query.get('prefix') ?? '').filter((e) => inNamespace(rc, e.Namespace));
        // Nomad's EvalCountResponse; `filter` narrows what is counted, paging does not apply.
        const src = rc.query.get('filter');
        const filter = src !== null && src !== '' ? compileFilter(src) : null;
        return { json: { Count: filter ? evals.filter((e) => filter.matches(e)).length : evals.length } };
      },
    },
    {
      method: 'GET',
      path: '/v1/evaluation/:id',
      tables: ['evals'],
      handler: (rc) => {
        const ev = needServer(ctx).state.evalById(rc.params['id']!);
        if (!ev) throw new YurtError('not_found', 'eval not found');
        return { json: evalView(ev) };
      },
    },
    {
      method: 'GET',
      path: '/v1/evaluation/:id/allocations',
      tables: ['allocs'],
      handler: (rc) => ({ json: needServer(ctx).state.allocsByEval(rc.params['id']!).map(allocStub) }),
    },
  ];
}
