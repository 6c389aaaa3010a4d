/**
 * /v1/agent/* and /v1/status/* — facts about this agent and the cluster's servers.
 */
import { YurtError } from '../../structs/errors.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './http-router.js';

export function agentRoutes(ctx: ApiContext): Route[] {
  const leaderAddr = (): string => ctx.server?.leaderRpcAddr() ?? '';
  return [
    {
      method: 'GET',
      path: '/v1/agent/self',
      handler: () => ({
        json: {
          config: ctx.config(),
          member: ctx.members().find((m) => m.Name === `${ctx.nodeName}.${ctx.region}`) ?? null,
          stats: {
            raft: ctx.server?.raft.stats() ?? {},
            broker: ctx.server?.broker.stats() ?? {},
            // Nomad's CLI finds "this node" (-self) here.
            ...(ctx.client ? { client: { node_id: ctx.client.nodeId() ?? '' } } : {}),
          },
        },
      }),
    },
    {
      method: 'GET',
      path: '/v1/agent/members',
      handler: () => ({ json: { ServerName: ctx.nodeName, ServerRegion: ctx.region, ServerDC: ctx.datacenter, Members: ctx.members() } }),
    },
    {
      method: 'GET',
      path: '/v1/agent/health',
      handler: () => {
        const server = ctx.server ? { ok: ctx.server.raft.leader() !== null, message: ctx.server.raft.leader() ? 'ok' : 'No cluster leader' } : undefined;
        const client = ctx.client
          ? ctx.client.isRegistered()
            ? { ok: true, message: 'ok' }
            : { ok: false, message: 'not registered with a server yet' }
          : undefined;
        // Unhealthy is an error status, as in Nomad, so load balancers and probes see it.
        if ((server && !server.ok) || (client && !client.ok)) throw new YurtError('unavailable', JSON.stringify({ server, client }));
        return { json: { ...(server ? { server } : {}), ...(client ? { client } : {}) } };
      },
    },
    { method: 'GET', path: '/v1/status/leader', handler: () => ({ json: leaderAddr() }) },
    {
      method: 'GET',
      path: '/v1/status/peers',
      handler: () => ({ json: ctx.server?.raft.configuration().filter((s) => s.suffrage === 'voter').map((s) => s.address) ?? [] }),
    },
    {
      method: 'GET',
      path: '/v1/operator/raft/configuration',
      handler: () => {
        const server = ctx.server;
        if (!server) throw new YurtError('unavailable', 'this agent is not a server');
        const leader = server.raft.leader();
        return {
          json: {
            Index: server.raft.commitIndex(),
            Servers: server.raft.configuration().map((s) => ({
              ID: s.id,
              Node: s.id === server.opts.id ? `${server.opts.name}.${server.opts.region}` : s.id,
              Address: s.address,
              Leader: leader?.id === s.id,
              Voter: s.suffrage === 'voter',
              RaftProtocol: '3',
            })),
          },
        };
      },
    },
  ];
}
