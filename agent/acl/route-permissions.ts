/**
 * What every HTTP route needs when ACLs are enabled, route by route, after Nomad's endpoint
 * checks (https://developer.hashicorp.com/nomad/api-docs: each endpoint's "ACL Required").
 *
 * A namespace capability names where its namespace comes from: the `?namespace=` query, the
 * job in the request body, the allocation or evaluation the path names, or the path's own
 * `:name`. Routes not in the table need a management token: a new endpoint is closed until
 * someone decides what it needs.
 */
import type { NamespaceCapability } from './capabilities.js';

export type NamespaceSource =
  /** `?namespace=`, "default" when absent, every namespace for `*`. */
  | 'query'
  /**
   * `?namespace=`, every namespace when absent or `*`: the allocation and evaluation lists
   * span all namespaces unless the request names one (agent/http/route-helpers.ts inNamespace).
   */
  | 'query-or-all'
  /** The job in the body; `?namespace=` applies when the job names none (POST /v1/jobs). */
  | 'job-body'
  /** The job in the body only (POST /v1/job/:id ignores `?namespace=`). */
  | 'job-body-strict'
  /** The allocation named by the path's first parameter. */
  | 'alloc'
  /** The evaluation named by the path's first parameter. */
  | 'eval'
  /** The path's `:name` is the namespace. */
  | 'path';

export type Permission =
  /** No token needed (health, leader, bootstrap). */
  | { kind: 'public' }
  /** Any token, anonymous included; the handler decides what the token may see. */
  | { kind: 'token' }
  | { kind: 'management' }
  | { kind: 'namespace'; capability: NamespaceCapability; from: NamespaceSource }
  /** Any capability at all in the namespace (reading the namespace itself). */
  | { kind: 'namespace-any'; from: NamespaceSource }
  | { kind: 'node' | 'agent' | 'operator'; level: 'read' | 'write' };

export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

const ns = (capability: NamespaceCapability, from: NamespaceSource = 'query'): Permission => ({ kind: 'namespace', capability, from });
const PUBLIC: Permission = { kind: 'public' };
const TOKEN: Permission = { kind: 'token' };
const MANAGEMENT: Permission = { kind: 'management' };
const nodeRead: Permission = { kind: 'node', level: 'read' };
const nodeWrite: Permission = { kind: 'node', level: 'write' };

/** Keyed by `METHOD path-pattern`, the pattern exactly as the route declares it. */
export const ROUTE_PERMISSIONS: ReadonlyMap<string, Permission> = new Map<string, Permission>([
  // Jobs (namespaced).
  ['GET /v1/jobs', ns('list-jobs')],
  ['POST /v1/jobs', ns('submit-job', 'job-body')],
  ['POST /v1/jobs/parse', ns('parse-job')],
  ['GET /v1/job/:id', ns('read-job')],
  ['POST /v1/job/:id', ns('submit-job', 'job-body-strict')],
  ['DELETE /v1/job/:id', ns('submit-job')],
  ['POST /v1/job/:id/plan', ns('submit-job', 'job-body')],
  ['GET /v1/job/:id/summary', ns('read-job')],
  ['GET /v1/job/:id/allocations', ns('read-job')],
  ['GET /v1/job/:id/evaluations', ns('read-job')],
  ['GET /v1/job/:id/versions', ns('read-job')],
  ['POST /v1/job/:id/evaluate', ns('submit-job')],
  ['POST /v1/job/:id/revert', ns('submit-job')],
  ['GET /v1/job/:id/scale', ns('read-job-scaling')],
  ['POST /v1/job/:id/scale', ns('scale-job')],
  ['GET /v1/job/:id/deployments', ns('read-job')],
  ['GET /v1/job/:id/deployment', ns('read-job')],
  ['GET /v1/deployments', ns('read-job')],
  ['GET /v1/deployment/:id', ns('read-job')],
  ['GET /v1/deployment/allocations/:id', ns('read-job')],
  ['POST /v1/deployment/fail/:id', ns('submit-job')],
  ['POST /v1/deployment/pause/:id', ns('submit-job')],
  ['POST /v1/deployment/promote/:id', ns('submit-job')],
  ['POST /v1/deployment/allocation-health/:id', ns('submit-job')],
  // Allocations and evaluations: the namespace of the object itself.
  ['GET /v1/allocations', ns('read-job', 'query-or-all')],
  ['GET /v1/allocation/:id', ns('read-job', 'alloc')],
  ['POST /v1/allocation/:id/stop', ns('alloc-lifecycle', 'alloc')],
  ['GET /v1/evaluations', ns('read-job', 'query-or-all')],
  ['GET /v1/evaluations/count', ns('read-job', 'query-or-all')],
  ['GET /v1/evaluation/:id', ns('read-job', 'eval')],
  ['GET /v1/evaluation/:id/allocations', ns('read-job', 'eval')],
  // The client's view of its allocations.
  ['GET /v1/client/fs/logs/:alloc', ns('read-logs', 'alloc')],
  ['GET /v1/client/fs/ls/:alloc', ns('read-fs', 'alloc')],
  ['GET /v1/client/fs/stat/:alloc', ns('read-fs', 'alloc')],
  ['GET /v1/client/fs/cat/:alloc', ns('read-fs', 'alloc')],
  ['GET /v1/client/allocation/:alloc/stats', ns('read-job', 'alloc')],
  ['POST /v1/client/allocation/:alloc/restart', ns('alloc-lifecycle', 'alloc')],
  ['POST /v1/client/allocation/:alloc/signal', ns('alloc-lifecycle', 'alloc')],
  ['GET /v1/client/allocation/:alloc/exec', ns('alloc-exec', 'alloc')],
  ['GET /v1/client/stats', nodeRead],
  // Nodes.
  ['GET /v1/nodes', nodeRead],
  ['GET /v1/node/:id', nodeRead],
  ['GET /v1/node/:id/allocations', nodeRead],
  ['POST /v1/node/:id/eligibility', nodeWrite],
  ['POST /v1/node/:id/drain', nodeWrite],
  // Agent and status.
  ['GET /v1/agent/self', { kind: 'agent', level: 'read' }],
  ['GET /v1/agent/members', nodeRead],
  ['GET /v1/agent/servers', { kind: 'agent', level: 'read' }],
  ['PUT /v1/agent/join', { kind: 'agent', level: 'write' }],
  ['PUT /v1/agent/force-leave', { kind: 'agent', level: 'write' }],
  ['GET /v1/agent/health', PUBLIC],
  ['GET /v1/status/leader', PUBLIC],
  ['GET /v1/status/peers', PUBLIC],
  ['GET /v1/metrics', PUBLIC],
  // Operator and system.
  ['GET /v1/operator/raft/configuration', { kind: 'operator', level: 'read' }],
  ['GET /v1/operator/scheduler/configuration', { kind: 'operator', level: 'read' }],
  ['PUT /v1/operator/scheduler/configuration', { kind: 'operator', level: 'write' }],
  ['DELETE /v1/operator/raft/peer', { kind: 'operator', level: 'write' }],
  ['PUT /v1/operator/raft/transfer-leadership', { kind: 'operator', level: 'write' }],
  ['PUT /v1/system/gc', MANAGEMENT],
  // ACL: bootstrap is open until it has happened once; reads of tokens and policies are
  // checked by the handlers (a token may read itself and the policies it holds).
  ['POST /v1/acl/bootstrap', PUBLIC],
  ['GET /v1/acl/policies', TOKEN],
  ['GET /v1/acl/policy/:name', TOKEN],
  ['POST /v1/acl/policy/:name', MANAGEMENT],
  ['DELETE /v1/acl/policy/:name', MANAGEMENT],
  ['GET /v1/acl/tokens', MANAGEMENT],
  ['POST /v1/acl/token', MANAGEMENT],
  ['GET /v1/acl/token/self', TOKEN],
  ['GET /v1/acl/token/:accessor', TOKEN],
  ['POST /v1/acl/token/:accessor', MANAGEMENT],
  ['DELETE /v1/acl/token/:accessor', MANAGEMENT],
  // Namespaces: listing shows only the namespaces the token has some capability in.
  ['GET /v1/namespaces', TOKEN],
  ['GET /v1/namespace/:name', { kind: 'namespace-any', from: 'path' }],
  ['POST /v1/namespace', MANAGEMENT],
  ['POST /v1/namespace/:name', MANAGEMENT],
  ['DELETE /v1/namespace/:name', MANAGEMENT],
]);

/** The permission a route needs; management for a route nobody has classified. */
export function permissionFor(method: string, path: string): Permission {
  return ROUTE_PERMISSIONS.get(`${method} ${path}`) ?? MANAGEMENT;
}
