/**
 * /v1/nodes and /v1/node/:id — Nomad's node endpoints. A node's SecretID never leaves the
 * servers.
 */
import { YurtError } from '../../structs/errors.js';
import type { Node, NodeListStub } from '../../structs/node.js';
import type { ApiContext } from './api-context.js';
import type { Route } from './http-router.js';
import { needServer } from './route-helpers.js';

export const YURT_VERSION_ATTR = 'yurt.version';

function publicNode(n: Node): Node {
  return { ...n, SecretID: '' };
}

function nodeStub(n: Node): NodeListStub {
  return {
    ID: n.ID,
    Datacenter: n.Datacenter,
    Name: n.Name,
    Address: n.Attributes['unique.network.ip-address'] ?? n.HTTPAddr.split(':')[0] ?? '',
    NodeClass: n.NodeClass,
    NodePool: n.NodePool,
    Version: n.Attributes[YURT_VERSION_ATTR] ?? '',
    Drain: n.Drain,
    SchedulingEligibility: n.SchedulingEligibility,
    Status: n.Status,
    StatusDescription: n.StatusDescription,
    Drivers: n.Drivers,
    CreateIndex: n.CreateIndex,
    ModifyIndex: n.ModifyIndex,
  };
}

export function nodeRoutes(ctx: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/nodes',
      tables: ['nodes'],
      handler: (rc) => ({ json: needServer(ctx).state.nodes(rc.query.get('prefix') ?? '').map(nodeStub) }),
    },
    {
      method: 'GET',
      path: '/v1/node/:id',
      tables: ['nodes'],
      handler: (rc) => {
        const n = needServer(ctx).state.nodeById(rc.params['id']!);
        if (!n) throw new YurtError('not_found', 'node not found');
        return { json: publicNode(n) };
      },
    },
    {
      method: 'GET',
      path: '/v1/node/:id/allocations',
      tables: ['allocs'],
      handler: (rc) => ({ json: needServer(ctx).state.allocsByNode(rc.params['id']!) }),
    },
  ];
}
