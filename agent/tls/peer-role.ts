/**
 * Who is on the other end of a TLS connection, read from its certificate as Nomad does: the
 * certificate's DNS names carry the role and region (`server.global.yurt`,
 * `client.global.yurt`, `cli.global.yurt`; see `yurt tls cert create`). Only a certificate
 * that chained to our CA (`socket.authorized`) counts; anything else has no role.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';

export const agentRoles = ['server', 'client', 'cli'] as const;
export type AgentRole = (typeof agentRoles)[number];

/** The certificates' domain; fixed, as Nomad's agents accept only `.nomad`. */
export const TLS_DOMAIN = 'yurt';

export function roleName(role: AgentRole, region: string): string {
  return `${role}.${region}.${TLS_DOMAIN}`;
}

/**
 * The role the peer's certificate grants in `region`, or null: no certificate, one our CA did
 * not sign, or one for another region or no role. A certificate naming several roles gets
 * the strongest (a server may also act as a client of other servers).
 */
export function peerRole(socket: TLSSocket, region: string): AgentRole | null {
  if (!socket.authorized) return null;
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return null;
  for (const role of agentRoles) if (certificateNames(cert, roleName(role, region))) return role;
  return null;
}

/**
 * Whether the certificate carries `name` among its DNS names. Exact names only: no
 * wildcards (`*.global.yurt` must not grant the server role), and the subject CN is never
 * consulted, as Go (and so Nomad) has verified names since Go 1.15.
 */
export function certificateNames(cert: X509Certificate, name: string): boolean {
  return cert.checkHost(name, { wildcards: false, subject: 'never' }) !== undefined;
}

/**
 * A `verifyClient` for a ws WebSocketServer on a TLS listener: the upgrade is refused (401)
 * unless the peer's certificate grants one of `roles`. Raft takes `['server']`; the RPC
 * port takes servers and clients.
 */
export function allowRoles(region: string, roles: readonly AgentRole[]): (info: { req: IncomingMessage }) => boolean {
  return ({ req }) => {
    const role = 'getPeerX509Certificate' in req.socket ? peerRole(req.socket as TLSSocket, region) : null;
    return role !== null && roles.includes(role);
  };
}
