/**
 * Nomad's deployment endpoints: the lists (/v1/deployments, /v1/job/:id/deployments), one
 * deployment and its allocations, the job's latest, and the writes (fail, pause/resume,
 * promote, allocation health), which answer Nomad's DeploymentUpdateResponse. Reads block on
 * the deployments table (`?index=`); a deployment outside the request's namespace is not found.
 */
import { allocStub } from '../../structs/alloc.js';
import type { Deployment } from '../../structs/deployment.js';
import { YurtError } from '../../structs/errors.js';
import { stringList } from '../server/deployment-endpoints.js';
import type { ApiContext } from './api-context.js';
import type { RequestContext, Route } from './http-router.js';
import { listPage } from './list-query.js';
import { namespaceOf, needEndpoints, needServer, optionalBody } from './route-helpers.js';

function getDeployment(ctx: ApiContext, rc: RequestContext): Deployment {
  const id = rc.params['id']!;
  const d = needServer(ctx).state.deploymentById(id);
  const ns = rc.query.get('namespace');
  if (!d || (ns !== '*' && d.Namespace !== namespaceOf(rc))) throw new YurtError('not_found', `deployment not found: ${id}`);
  return d;
}

/** A write's JSON body: optional, and its DeploymentID (when given) must be the path's. */
async function writeBody(rc: RequestContext): Promise<Record<string, unknown>> {
  const body = (await optionalBody(rc)) ?? {};
  const id = body['DeploymentID'];
  if (id !== undefined && id !== rc.params['id']) throw new YurtError('invalid_argument', 'DeploymentID does not match the deployment in the path');
  return body;
}

function boolField(body: Record<string, unknown>, field: string): boolean {
  const v = body[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new YurtError('invalid_argument', `${field} must be a boolean`);
  return v;
}

export function deploymentRoutes(ctx: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/deployments',
      tables: ['deployments'],
      handler: (rc) => {
        const all = rc.query.get('namespace') === '*';
        const ns = namespaceOf(rc);
        const list = needServer(ctx)
          .state.deployments(rc.query.get('prefix') ?? '')
          .filter((d) => all || d.Namespace === ns);
        return { json: listPage(rc, list, (d) => d.ID) };
      },
    },
    { method: 'GET', path: '/v1/deployment/:id', tables: ['deployments'], handler: (rc) => ({ json: getDeployment(ctx, rc) }) },
    {
      method: 'GET',
      path: '/v1/deployment/allocations/:id',
      tables: ['deployments', 'allocs'],
      handler: (rc) => {
        const d = getDeployment(ctx, rc);
        const allocs = needServer(ctx)
          .state.allocsByJob(d.Namespace, d.JobID)
          .filter((a) => a.DeploymentID === d.ID);
        // Nomad's stub for this list carries each allocation's health verdict.
        return { json: listPage(rc, allocs, (a) => a.ID, (a) => ({ ...allocStub(a), DeploymentStatus: a.DeploymentStatus ?? null })) };
      },
    },
    {
      method: 'POST',
      path: '/v1/deployment/fail/:id',
      handler: async (rc) => {
        const d = getDeployment(ctx, rc);
        await writeBody(rc);
        const r = await needEndpoints(ctx).deployments.fail(d.ID);
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'POST',
      path: '/v1/deployment/pause/:id',
      handler: async (rc) => {
        const d = getDeployment(ctx, rc);
        const body = await writeBody(rc);
        const r = await needEndpoints(ctx).deployments.pause(d.ID, boolField(body, 'Pause'));
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'POST',
      path: '/v1/deployment/promote/:id',
      handler: async (rc) => {
        const d = getDeployment(ctx, rc);
        const body = await writeBody(rc);
        const r = await needEndpoints(ctx).deployments.promote(d.ID, boolField(body, 'All'), stringList(body['Groups'], 'Groups'));
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'POST',
      path: '/v1/deployment/allocation-health/:id',
      handler: async (rc) => {
        const d = getDeployment(ctx, rc);
        const body = await writeBody(rc);
        const r = await needEndpoints(ctx).deployments.setAllocHealth(
          d.ID,
          stringList(body['HealthyAllocationIDs'], 'HealthyAllocationIDs'),
          stringList(body['UnhealthyAllocationIDs'], 'UnhealthyAllocationIDs'),
        );
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'GET',
      path: '/v1/job/:id/deployments',
      tables: ['deployments'],
      // As Nomad: the current incarnation's deployments (a job stopped, purged and run again
      // starts afresh) unless `all=true`; none for a job that does not exist.
      handler: (rc) => {
        const s = needServer(ctx).state;
        const job = s.jobById(namespaceOf(rc), rc.params['id']!);
        const all = rc.query.get('all') === 'true';
        const list = job === null ? [] : s.deploymentsByJob(job.Namespace, job.ID).filter((d) => all || d.JobCreateIndex === job.CreateIndex);
        return { json: list };
      },
    },
    {
      method: 'GET',
      path: '/v1/job/:id/deployment',
      tables: ['deployments'],
      handler: (rc) => {
        const s = needServer(ctx).state;
        const job = s.jobById(namespaceOf(rc), rc.params['id']!);
        const latest = job === null ? null : (s.deploymentsByJob(job.Namespace, job.ID).find((d) => d.JobCreateIndex === job.CreateIndex) ?? null);
        return { json: latest };
      },
    },
  ];
}
