/**
 * Node TLS options for the agent's three kinds of connection, from the `tls` stanza
 * (https://developer.hashicorp.com/nomad/docs/configuration/tls):
 *
 * - HTTPS (the /v1 API): our certificate; a client certificate from our CA is demanded only
 *   with `verify_https_client` (browsers and curl usually have none).
 * - RPC and Raft listeners: always mutual. A peer without a certificate from our CA does not
 *   get past the handshake; which role it may play is then `peerRole`'s business.
 * - RPC and Raft dialers: the listener's certificate must chain to our CA and, with
 *   `verify_server_hostname`, name `server.<region>.yurt`, which stops a client's
 *   certificate (same CA) from posing as a server. Without it any certificate from our CA is
 *   accepted, whatever its names: servers are dialed by IP address, so the usual host name
 *   check would only get in the way.
 *
 * No plaintext fallback: the listeners built from these options speak only TLS.
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions, PeerCertificate, SecureVersion, TlsOptions } from 'node:tls';
import type { ClientOptions as WsClientOptions } from 'ws';
import type { TlsVersion } from '../config/agent-config.js';
import { certificateNames, roleName } from './peer-role.js';
import type { TlsMaterial } from './tls-material.js';

const secureVersions: Record<TlsVersion, SecureVersion> = {
  tls10: 'TLSv1',
  tls11: 'TLSv1.1',
  tls12: 'TLSv1.2',
  tls13: 'TLSv1.3',
};

export function tlsMinVersion(v: TlsVersion): SecureVersion {
  return secureVersions[v];
}

function common(m: TlsMaterial): { cert: Buffer; key: Buffer; minVersion: SecureVersion; ca?: Buffer } {
  return { cert: m.cert, key: m.key, minVersion: tlsMinVersion(m.tls.tlsMinVersion), ...(m.ca !== undefined ? { ca: m.ca } : {}) };
}

export function httpsServerOptions(m: TlsMaterial): HttpsServerOptions {
  const verify = m.tls.verifyHttpsClient;
  return { ...common(m), requestCert: verify, rejectUnauthorized: verify };
}

export function rpcServerOptions(m: TlsMaterial): TlsOptions {
  return { ...common(m), requestCert: true, rejectUnauthorized: true };
}

/** The name a server's certificate must carry when dialers verify it. */
export function expectedServerName(m: TlsMaterial): string {
  return roleName('server', m.region);
}

/**
 * Options for dialing a server's RPC or Raft listener (pass them to `tls.connect` or to
 * ws's `new WebSocket('wss://…', options)`). The dialer presents our certificate too.
 */
export function rpcClientOptions(m: TlsMaterial): ConnectionOptions {
  const name = expectedServerName(m);
  const verifyName = m.tls.verifyServerHostname;
  return {
    ...common(m),
    rejectUnauthorized: true,
    // SNI names the role we expect, not the address we dialed.
    servername: name,
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined => (verifyName ? checkServerName(name, cert) : undefined),
  };
}

/** Node's contract for checkServerIdentity: an Error refuses the server. The code is the one
 *  Node's own check uses, so callers can tell this failure from others. */
function checkServerName(name: string, peer: PeerCertificate): Error | undefined {
  let ok = false;
  try {
    ok = certificateNames(new X509Certificate(peer.raw), name);
  } catch {
    ok = false;
  }
  if (ok) return undefined;
  const err = new Error(`the server's certificate does not name ${name} (it names ${peer.subjectaltname ?? 'nothing'}): not a server of this region, refused (tls.verify_server_hostname)`);
  (err as NodeJS.ErrnoException).code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  return err;
}

/**
 * `rpcClientOptions` typed for ws's `new WebSocket('wss://…', options)`: ws passes them on to
 * `tls.connect`, but declares `checkServerIdentity` as returning a boolean where Node's tls
 * wants `Error | undefined` (an Error refuses the peer).
 */
export function wsClientOptions(m: TlsMaterial): WsClientOptions & { servername: string } {
  const o = rpcClientOptions(m);
  return {
    ...common(m),
    rejectUnauthorized: true,
    servername: expectedServerName(m),
    checkServerIdentity: o.checkServerIdentity as unknown as WsClientOptions['checkServerIdentity'],
  };
}
