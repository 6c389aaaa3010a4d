/**
 * /v1/agent/* and /v1/status/* — facts about this agent and the cluster's servers.
 */
import { YurtError } from '../../structs/errors.js';
import { ClusterEndpoints, type RaftPeerSelector } from '../server/cluster-endpoints.js';
import { withPort } from '../server/server-membership.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './http-router.js';

function cluster(ctx: ApiContext): ClusterEndpoints {
  if (!ctx.server || !ctx.endpoints) throw new YurtError('unavailable', 'this agent is not a server');
  return new ClusterEndpoints(ctx.server, ctx.endpoints);
}

function peerSelector(q: URLSearchParams): RaftPeerSelector {
  const id = q.get('id') ?? '';
  const address = q.get('address') ?? '';
  if ((id === '') === (address === '')) throw new YurtError('invalid_argument', "Must specify either ?id with the server's ID or ?address with IP:port");
  return id !== '' ? { ID: id } : { Address: address };
}

export function agentRoutes(ctx: ApiContext): Route[] {
  const leaderAddr = (): string => ctx.server?.leaderRpcAddr() ?? '';
  return [
    {
      method: 'PUT',
      path: '/v1/agent/join',
      // Nomad: ?address= repeated; answers {num_joined, error} rather than failing outright.
      handler: async (rc) => {
        const server = ctx.server;
        if (!server) throw new YurtError('unavailable', 'this agent is not a server');
        const addrs = rc.query.getAll('address').filter((a) => a !== '');
        if (addrs.length === 0) throw new YurtError('invalid_argument', 'missing ?address= of a server to join');
        let joined = 0;
        const errors: string[] = [];
        for (const raw of addrs) {
          const addr = withPort(raw, server.opts.defaultRpcPort ?? 4647);
          try {
            const peer = await server.membership.hello(addr);
            if (peer.ID === server.opts.id) throw new YurtError('invalid_argument', 'that is this server');
            if (peer.InCluster && !server.inCluster()) await server.joinCluster([addr]);
            else if (!peer.InCluster && server.inCluster()) await cluster(ctx).join({ ID: peer.ID, RpcAddr: peer.RpcAddr });
            joined++;
          } catch (e) {
            errors.push(`${raw}: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        return { json: { num_joined: joined, error: errors.join('; ') } };
      },
    },
    {
      method: 'PUT',
      path: '/v1/agent/force-leave',
      handler: async (rc) => {
        const node = rc.query.get('node') ?? '';
        if (node === '') throw new YurtError('invalid_argument', 'missing ?node= naming the server to remove');
        await cluster(ctx).forceLeave(node);
        return { json: null };
      },
    },
    {
      method: 'GET',
      path: '/v1/agent/servers',
      handler: () => ({
        json: ctx.server ? ctx.server.raft.configuration().map((s) => s.address) : ((ctx.config() as { client?: { servers?: string[] } }).client?.servers ?? []),
      }),
    },
    {
      method: 'DELETE',
      path: '/v1/operator/raft/peer',
      handler: async (rc) => {
        await cluster(ctx).removePeer(peerSelector(rc.query));
        return { json: null };
      },
    },
    {
      method: 'PUT',
      path: '/v1/operator/raft/transfer-leadership',
      handler: async (rc) => {
        const q = rc.query;
        const sel = q.get('id') === null && q.get('address') === null ? {} : peerSelector(q);
        const r = await cluster(ctx).transferLeadership(sel);
        return { json: { Leader: r.Leader } };
      },
    },
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
        const names = new Map(server.membership.memberList().map((m) => [m.hello.ID, `${m.hello.Name}.${m.hello.Region}`]));
        const nodeName = (id: string): string => (id === server.opts.id ? `${server.opts.name}.${server.opts.region}` : (names.get(id) ?? id));
        return {
          json: {
            Index: server.raft.commitIndex(),
            Servers: server.raft.configuration().map((s) => ({
              ID: s.id,
              Node: nodeName(s.id),
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
