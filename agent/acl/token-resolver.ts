/**
 * From a request's secret to what it may do: the token (or the anonymous token when none was
 * sent) and its compiled ACL. Policies are parsed once per (name, ModifyIndex) and kept, so a
 * request costs a state lookup and a cache hit. A token naming a policy that does not exist
 * simply gets nothing from it (Nomad does the same).
 */
import { ANONYMOUS_POLICY, tokenExpired, type ACLToken } from '../../structs/acl.js';
import { YurtError } from '../../structs/errors.js';
import type { StateReader } from '../server/state/state-reader.js';
import { Acl } from './acl.js';
import { parsePolicyRules, type PolicyRules } from './policy-rules.js';

export interface Identity {
  /** Null for a request that carried no token (Nomad's anonymous token). */
  token: ACLToken | null;
  acl: Acl;
}

/** What the request guard needs: a secret (undefined: none sent) to an identity, or permission_denied. */
export interface IdentityResolver {
  resolve(secret: string | undefined): Promise<Identity>;
}

/** Past this many cached parses the cache starts over; policies rarely number that many. */
const MAX_CACHED_POLICIES = 1024;

export class TokenResolver implements IdentityResolver {
  private readonly parsed = new Map<string, Promise<PolicyRules | null>>();

  constructor(
    private readonly state: StateReader,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Throws permission_denied for an unknown or expired secret. */
  async resolve(secret: string | undefined): Promise<Identity> {
    if (secret === undefined || secret === '') {
      return { token: null, acl: await this.compile([ANONYMOUS_POLICY]) };
    }
    const token = this.state.aclTokenBySecret(secret);
    if (!token) throw new YurtError('permission_denied', 'ACL token not found');
    if (tokenExpired(token, this.nowMs())) throw new YurtError('permission_denied', 'ACL token expired');
    if (token.Type === 'management') return { token, acl: Acl.management() };
    return { token, acl: await this.compile(token.Policies) };
  }

  private async compile(names: readonly string[]): Promise<Acl> {
    const rules: PolicyRules[] = [];
    for (const name of names) {
      const r = await this.rulesOf(name);
      if (r) rules.push(r);
    }
    return rules.length === 0 ? Acl.denyAll() : Acl.compile(rules);
  }

  private rulesOf(name: string): Promise<PolicyRules | null> {
    const policy = this.state.aclPolicy(name);
    if (!policy) return Promise.resolve(null);
    const key = `${policy.Name}@${policy.ModifyIndex}`;
    let p = this.parsed.get(key);
    if (p === undefined) {
      if (this.parsed.size >= MAX_CACHED_POLICIES) this.parsed.clear();
      // Stored rules were checked when written; one that no longer parses grants nothing.
      p = parsePolicyRules(policy.Rules, `${policy.Name}.hcl`).catch(() => null);
      this.parsed.set(key, p);
    }
    return p;
  }
}
