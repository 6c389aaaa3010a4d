/**
 * The authorization decision: may this ACL use this route in these namespaces. Pure: the
 * caller resolves the token and works out the namespaces (request-guard.ts does both for
 * HTTP requests).
 */
import { YurtError } from '../../structs/errors.js';
import type { Acl } from './acl.js';
import { permissionFor, type Permission } from './route-permissions.js';

export const PERMISSION_DENIED = 'Permission denied';

export interface RouteRef {
  method: string;
  /** The route's path pattern as declared (`/v1/job/:id`), not the request's path. */
  path: string;
}

/** Whether `acl` holds `permission` in every one of `namespaces` (where it is namespaced). */
export function allowed(permission: Permission, acl: Acl, namespaces: readonly string[]): boolean {
  if (acl.isManagement) return true;
  switch (permission.kind) {
    case 'public':
    case 'token':
      return true;
    case 'management':
      return false;
    case 'namespace':
      return namespaces.length > 0 && namespaces.every((n) => acl.allowNamespaceOperation(n, permission.capability));
    case 'namespace-any':
      return namespaces.length > 0 && namespaces.every((n) => acl.allowNamespace(n));
    case 'node':
      return acl.allowNode(permission.level);
    case 'agent':
      return acl.allowAgent(permission.level);
    case 'operator':
      return acl.allowOperator(permission.level);
  }
}

/** Throws 403 "Permission denied" unless `acl` may use `route` in `namespace` (or all of them). */
export function authorize(route: RouteRef, acl: Acl, namespace: string | readonly string[]): void {
  const namespaces = typeof namespace === 'string' ? [namespace] : namespace;
  if (!allowed(permissionFor(route.method, route.path), acl, namespaces)) throw new YurtError('permission_denied', PERMISSION_DENIED);
}
