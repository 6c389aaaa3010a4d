/**
 * ACL policies, tokens and namespaces in Nomad's API shapes
 * (https://developer.hashicorp.com/nomad/api-docs/acl, .../api-docs/namespaces). Times in
 * tokens are RFC 3339 strings, as Nomad's JSON encodes Go's time.Time; durations are ns.
 */

/** A named set of rules written in HCL (the rule language is parsed by the servers). */
export interface ACLPolicy {
  Name: string;
  Description: string;
  Rules: string;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface ACLPolicyListStub {
  Name: string;
  Description: string;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Management tokens may do everything; client tokens only what their policies allow. */
export type ACLTokenType = 'client' | 'management';

export interface ACLToken {
  AccessorID: string;
  SecretID: string;
  Name: string;
  Type: ACLTokenType;
  Policies: string[];
  Global: boolean;
  /** RFC 3339. */
  CreateTime: string;
  /** RFC 3339; null when the token never expires. */
  ExpirationTime: string | null;
  CreateIndex: number;
  ModifyIndex: number;
}

/** A token as lists show it: without its secret. */
export type ACLTokenListStub = Omit<ACLToken, 'SecretID'>;

export interface Namespace {
  Name: string;
  Description: string;
  Meta: Record<string, string>;
  CreateIndex: number;
  ModifyIndex: number;
}

export const DEFAULT_NAMESPACE = 'default';

/** Nomad's description of the namespace that always exists. */
export const DEFAULT_NAMESPACE_DESCRIPTION = 'Default shared namespace';

/** The policy applied to requests that carry no token (Nomad's anonymous token). */
export const ANONYMOUS_POLICY = 'anonymous';

/** Nomad's validNamespaceName: letters, digits and dashes, 1 to 128 of them. */
const NAMESPACE_NAME = /^[a-zA-Z0-9-]{1,128}$/;
/** Nomad's ValidPolicyName. */
const POLICY_NAME = /^[a-zA-Z0-9-]{1,128}$/;

export function namespaceNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || !NAMESPACE_NAME.test(name)) {
    return `invalid name ${JSON.stringify(name)}: must be 1 to 128 letters, digits or dashes`;
  }
  return undefined;
}

export function policyNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || !POLICY_NAME.test(name)) {
    return `invalid name ${JSON.stringify(name)}: must be 1 to 128 letters, digits or dashes`;
  }
  return undefined;
}

export function tokenStub(t: ACLToken): ACLTokenListStub {
  const { SecretID: _secret, ...stub } = t;
  return stub;
}

export function policyStub(p: ACLPolicy): ACLPolicyListStub {
  return { Name: p.Name, Description: p.Description, CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex };
}

/** Whether a token's expiry has passed at `nowMs`. */
export function tokenExpired(t: Pick<ACLToken, 'ExpirationTime'>, nowMs: number): boolean {
  if (t.ExpirationTime === null || t.ExpirationTime === '') return false;
  const at = Date.parse(t.ExpirationTime);
  return Number.isFinite(at) && at <= nowMs;
}

export function defaultNamespace(): Namespace {
  return { Name: DEFAULT_NAMESPACE, Description: DEFAULT_NAMESPACE_DESCRIPTION, Meta: {}, CreateIndex: 1, ModifyIndex: 1 };
}
