/**
 * /v1/nodes and /v1/node/:id — Nomad's node endpoints. A node's SecretID never leaves the
 * servers.
 */
import { YurtError } from '../../structs/errors.js';
import type { Node, NodeListStub } from '../../structs/node.js';
import type { ApiContext } from './api-context.js';
import type { RequestContext, Route } from './http-router.js';
import { listPage } from './list-query.js';
import { needEndpoints, needServer } from './route-helpers.js';
import { allocView, nodeStubView, nodeView } from './wire-views.js';
import type { DrainSpec } from '../server/endpoints.js';

export const YURT_VERSION_ATTR = 'yurt.version';

function publicNode(n: Node): Node {
  return { ...n, SecretID: '' };
}

function bodyObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new YurtError('invalid_argument', `${what} must be a JSON object`);
  return body as Record<string, unknown>;
}

/** The node a path names; Nomad also accepts a unique ID prefix here. */
function resolveNodeId(ctx: ApiContext, rc: RequestContext): string {
  const id = rc.params['id']!;
  const s = needServer(ctx).state;
  if (s.nodeById(id)) return id;
  const matches = s.nodes(id);
  if (matches.length === 1) return matches[0]!.ID;
  if (matches.length > 1) throw new YurtError('invalid_argument', `node ID prefix "${id}" matches ${matches.length} nodes`);
  throw new YurtError('not_found', 'node not found');
}

/** Nomad's NodeUpdateDrainRequest: `{ DrainSpec: { Deadline, IgnoreSystemJobs } | null, MarkEligible }`. */
export function parseDrainRequest(body: unknown): { spec: DrainSpec | null; markEligible: boolean } {
  const b = bodyObject(body, 'drain request');
  const raw = b['DrainSpec'];
  const markEligible = b['MarkEligible'] ?? false;
  if (typeof markEligible !== 'boolean') throw new YurtError('invalid_argument', 'MarkEligible must be a boolean');
  if (raw === undefined || raw === null) return { spec: null, markEligible };
  const d = bodyObject(raw, 'DrainSpec');
  const deadline = d['Deadline'] ?? 0;
  if (typeof deadline !== 'number' || !Number.isInteger(deadline)) throw new YurtError('invalid_argument', 'DrainSpec.Deadline must be an integer number of nanoseconds');
  const ignore = d['IgnoreSystemJobs'] ?? false;
  if (typeof ignore !== 'boolean') throw new YurtError('invalid_argument', 'DrainSpec.IgnoreSystemJobs must be a boolean');
  return { spec: { Deadline: deadline, IgnoreSystemJobs: ignore }, markEligible };
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
      handler: (rc) => ({ json: listPage(rc, needServer(ctx).state.nodes(rc.query.get('prefix') ?? '').map(publicNode), (n) => n.ID, (n) => nodeStubView(nodeStub(n))) }),
    },
    {
      method: 'GET',
      path: '/v1/node/:id',
      tables: ['nodes'],
      handler: (rc) => {
        const n = needServer(ctx).state.nodeById(rc.params['id']!);
        if (!n) throw new YurtError('not_found', 'node not found');
        return { json: nodeView(n) };
      },
    },
    {
      method: 'GET',
      path: '/v1/node/:id/allocations',
      tables: ['allocs'],
      handler: (rc) => ({ json: needServer(ctx).state.allocsByNode(rc.params['id']!).map(allocView) }),
    },
    {
      method: 'POST',
      path: '/v1/node/:id/eligibility',
      handler: async (rc) => {
        const b = bodyObject(await rc.body(), 'eligibility request');
        const e = b['Eligibility'];
        if (e !== 'eligible' && e !== 'ineligible') throw new YurtError('invalid_argument', 'Eligibility must be "eligible" or "ineligible"');
        const r = await needEndpoints(ctx).nodeUpdateEligibility(resolveNodeId(ctx, rc), e);
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'POST',
      path: '/v1/node/:id/drain',
      handler: async (rc) => {
        const { spec, markEligible } = parseDrainRequest(await rc.body());
        const r = await needEndpoints(ctx).nodeUpdateDrain(resolveNodeId(ctx, rc), spec, markEligible);
        return { json: r, index: r.Index };
      },
    },
  ];
}
