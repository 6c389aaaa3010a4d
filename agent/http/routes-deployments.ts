/**
 * /v1/deployments, /v1/deployment/:id, /v1/job/:id/deployments, /v1/job/:id/deployment —
 * Nomad's deployment reads. yurt does not create deployments yet (updates are applied by
 * the scheduler without a deployment watcher), so these answer as Nomad does for a cluster
 * with none: empty lists, `null` for a job's latest deployment, 404 for an ID.
 */
import { YurtError } from '../../structs/errors.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './http-router.js';
import { listPage } from './list-query.js';
import { needServer } from './route-helpers.js';

/** Nomad's Deployment (the fields a list row carries); none exist yet. */
export interface Deployment {
  ID: string;
  Namespace: string;
  JobID: string;
  Status: string;
  CreateIndex: number;
  ModifyIndex: number;
}

export function deploymentRoutes(ctx: ApiContext): Route[] {
  const none: Deployment[] = [];
  return [
    { method: 'GET', path: '/v1/deployments', tables: ['jobs'], handler: (rc) => ({ json: listPage(rc, none, (d) => d.ID) }) },
    {
      method: 'GET',
      path: '/v1/deployment/:id',
      tables: ['jobs'],
      handler: (rc) => {
        needServer(ctx);
        throw new YurtError('not_found', `deployment not found: ${rc.params['id']!}`);
      },
    },
    {
      method: 'GET',
      path: '/v1/job/:id/deployments',
      tables: ['jobs'],
      // As Nomad: a job with no deployments (or no such job) lists none.
      handler: (rc) => {
        needServer(ctx);
        return { json: listPage(rc, none, (d) => d.ID) };
      },
    },
    {
      method: 'GET',
      path: '/v1/job/:id/deployment',
      tables: ['jobs'],
      handler: () => {
        needServer(ctx);
        return { json: null };
      },
    },
  ];
}
