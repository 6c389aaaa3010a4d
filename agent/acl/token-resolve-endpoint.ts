/**
 * `ACL.ResolveToken` on the servers' RPC port: a client agent with ACLs enabled sends the
 * secret a request carried and gets back the token (without its secret) and the policies it
 * holds, rules included, so it can compile and enforce the ACL itself (Nomad's client does
 * the same through its ACL.ResolveToken / ACL.GetPolicies RPCs). An empty secret stands for
 * the anonymous token. Unknown and expired secrets are refused with the same
 * permission_denied errors the HTTP guard gives, so a client answers exactly as a server.
 *
 * Who may ask: anyone who can reach the RPC port (with mutual TLS, servers and clients
 * only) and already holds the secret; the answer tells nothing the secret's holder could
 * not read with `GET /v1/acl/token/self`.
 */
import { ANONYMOUS_POLICY, tokenExpired, type ACLPolicy, type ACLTokenListStub } from '../../structs/acl.js';
import { YurtError } from '../../structs/errors.js';
import type { RpcServer } from '../rpc/rpc-server.js';
import type { StateReader } from '../server/state/state-reader.js';

export const RESOLVE_TOKEN_METHOD = 'ACL.ResolveToken';

export interface ResolveTokenArgs {
  /** The request's secret; empty for a request that carried none. */
  SecretID: string;
}

/** The policy fields a client needs to compile rules and to tell a changed policy apart. */
export type ResolvedPolicy = Pick<ACLPolicy, 'Name' | 'Rules' | 'ModifyIndex'>;

export interface ResolveTokenReply {
  /** Null for the anonymous token. */
  Token: ACLTokenListStub | null;
  /** The token's policies that exist (a management token needs none). */
  Policies: ResolvedPolicy[];
}

export function resolveTokenReply(state: StateReader, args: unknown, nowMs: number): ResolveTokenReply {
  const secret = typeof args === 'object' && args !== null ? (args as { SecretID?: unknown }).SecretID : undefined;
  if (secret !== undefined && typeof secret !== 'string') throw new YurtError('invalid_argument', 'SecretID must be a string');
  if (secret === undefined || secret === '') return { Token: null, Policies: policies(state, [ANONYMOUS_POLICY]) };
  const token = state.aclTokenBySecret(secret);
  if (!token) throw new YurtError('permission_denied', 'ACL token not found');
  if (tokenExpired(token, nowMs)) throw new YurtError('permission_denied', 'ACL token expired');
  const { SecretID: _secret, ...stub } = token;
  return { Token: stub, Policies: token.Type === 'management' ? [] : policies(state, token.Policies) };
}

function policies(state: StateReader, names: readonly string[]): ResolvedPolicy[] {
  const out: ResolvedPolicy[] = [];
  for (const name of names) {
    const p = state.aclPolicy(name);
    if (p) out.push({ Name: p.Name, Rules: p.Rules, ModifyIndex: p.ModifyIndex });
  }
  return out;
}

export function registerResolveToken(rpc: RpcServer, state: StateReader, nowMs: () => number = Date.now): void {
  rpc.handle(RESOLVE_TOKEN_METHOD, (args) => resolveTokenReply(state, args, nowMs()));
}
