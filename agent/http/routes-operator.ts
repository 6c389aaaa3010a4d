/**
 * /v1/operator/scheduler/configuration and /v1/system/gc — cluster-wide operator settings and
 * actions, in Nomad's shapes.
 */
import { YurtError } from '../../structs/errors.js';
import { parseSchedulerConfig } from '../server/scheduler-config.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './http-router.js';
import { needEndpoints, needServer } from './route-helpers.js';

export function operatorRoutes(ctx: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/operator/scheduler/configuration',
      tables: ['scheduler_config'],
      handler: () => {
        const s = needServer(ctx).state;
        const index = Math.max(1, s.tableIndex('scheduler_config'));
        return { json: { SchedulerConfig: s.schedulerConfig(), Index: index, KnownLeader: ctx.server?.raft.leader() != null, LastContact: 0 }, index };
      },
    },
    {
      method: 'PUT',
      path: '/v1/operator/scheduler/configuration',
      handler: async (rc) => {
        const config = parseSchedulerConfig(await rc.body());
        const casRaw = rc.query.get('cas');
        let cas: number | null = null;
        if (casRaw !== null) {
          cas = Number(casRaw);
          if (casRaw === '' || !Number.isInteger(cas) || cas < 0) throw new YurtError('invalid_argument', `Invalid cas index: ${casRaw}`);
        }
        const r = await needEndpoints(ctx).schedulerSetConfig(config, cas);
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'PUT',
      path: '/v1/system/gc',
      handler: async () => {
        const r = await needEndpoints(ctx).systemGc();
        return { json: null, index: r.Index };
      },
    },
  ];
}
