/**
 * Token resolution for an agent that holds no ACL state (a client-only agent): the secret is
 * sent to the servers (`ACL.ResolveToken`), the policies that come back are compiled here,
 * and the result is cached for `acl.token_ttl` (Nomad's default 30 s), as Nomad's client
 * does (client/acl.go). So a token's changes reach the client within one TTL.
 *
 * Failures never allow:
 *   - an unknown or expired token is refused (403, the server's own message), and not cached;
 *   - when no server answers, a token resolved before is used from the cache even if its
 *     TTL has passed (Nomad's client extends its cache the same way, so a server outage does
 *     not lock operators out of logs), but only until the token's own expiry; a token never
 *     resolved here fails with a 503 "unavailable".
 */
import { tokenExpired } from '../../structs/acl.js';
import { asYurtError, YurtError } from '../../structs/errors.js';
import { Acl } from './acl.js';
import { parsePolicyRules, type PolicyRules } from './policy-rules.js';
import { RESOLVE_TOKEN_METHOD, type ResolvedPolicy, type ResolveTokenArgs, type ResolveTokenReply } from './token-resolve-endpoint.js';
import type { Identity, IdentityResolver } from './token-resolver.js';

/** Sends one RPC to the servers (the agent's RpcClient.call). */
export type RpcCall = (method: string, args: unknown, timeoutMs: number) => Promise<unknown>;

export interface RemoteTokenResolverOptions {
  call: RpcCall;
  /** How long a resolved token is trusted without asking again (acl.token_ttl). */
  ttlMs: number;
  /** How long to wait for a server's answer. */
  timeoutMs?: number;
  nowMs?: () => number;
  /** Told when a cached token is used past its TTL because no server answered. */
  onStale?: (err: YurtError) => void;
}

interface Entry {
  identity: Identity;
  fetchedAt: number;
}

/** Past this many cached secrets the cache starts over. */
const MAX_CACHED = 4096;
const ANONYMOUS_KEY = '';

export class RemoteTokenResolver implements IdentityResolver {
  private readonly cache = new Map<string, Entry>();
  private readonly parsed = new Map<string, Promise<PolicyRules | null>>();
  private readonly nowMs: () => number;

  constructor(private readonly opts: RemoteTokenResolverOptions) {
    this.nowMs = opts.nowMs ?? Date.now;
  }

  async resolve(secret: string | undefined): Promise<Identity> {
    const key = secret === undefined ? ANONYMOUS_KEY : secret;
    const now = this.nowMs();
    const cached = this.cache.get(key);
    if (cached && cached.identity.token && tokenExpired(cached.identity.token, now)) {
      this.cache.delete(key);
      throw new YurtError('permission_denied', 'ACL token expired');
    }
    if (cached && now - cached.fetchedAt < this.opts.ttlMs) return cached.identity;
    let reply: ResolveTokenReply;
    try {
      const args: ResolveTokenArgs = { SecretID: key };
      reply = (await this.opts.call(RESOLVE_TOKEN_METHOD, args, this.opts.timeoutMs ?? 5_000)) as ResolveTokenReply;
    } catch (e) {
      const err = asYurtError(e);
      if (err.code === 'permission_denied' || err.code === 'invalid_argument') {
        this.cache.delete(key);
        throw err;
      }
      const unavailable = new YurtError('unavailable', `cannot check the ACL token: no server answered (${err.message})`, { cause: e });
      if (cached) {
        this.opts.onStale?.(unavailable);
        return cached.identity;
      }
      throw unavailable;
    }
    const identity = await this.identityOf(reply);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { identity, fetchedAt: now });
    return identity;
  }

  private async identityOf(reply: ResolveTokenReply): Promise<Identity> {
    if (typeof reply !== 'object' || reply === null || !Array.isArray(reply.Policies)) {
      throw new YurtError('internal', 'malformed ACL.ResolveToken answer from the server');
    }
    // The secret stays out of the cached token: handlers only read its type and policies.
    const token = reply.Token === null ? null : { ...reply.Token, SecretID: '' };
    if (token?.Type === 'management') return { token, acl: Acl.management() };
    const rules: PolicyRules[] = [];
    for (const p of reply.Policies) {
      const r = await this.rulesOf(p);
      if (r) rules.push(r);
    }
    return { token, acl: rules.length === 0 ? Acl.denyAll() : Acl.compile(rules) };
  }

  private rulesOf(policy: ResolvedPolicy): Promise<PolicyRules | null> {
    const key = `${policy.Name}@${policy.ModifyIndex}`;
    let p = this.parsed.get(key);
    if (p === undefined) {
      if (this.parsed.size >= MAX_CACHED) this.parsed.clear();
      // The servers checked the rules when they were written; one that no longer parses grants nothing.
      p = parsePolicyRules(policy.Rules, `${policy.Name}.hcl`).catch(() => null);
      this.parsed.set(key, p);
    }
    return p;
  }
}
