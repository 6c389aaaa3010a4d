/**
 * How the `acl` commands print tokens and policies, in Nomad's layout: tokens as a
 * `Key = Value` block, lists as aligned columns, times as Go prints a time.Time.
 */
import type { ACLPolicy, ACLPolicyListStub, ACLToken, ACLTokenListStub } from '../../structs/acl.js';
import { formatKV, formatList } from '../format/table.js';

/** Go's time.Time String() in UTC: "2017-09-11 17:38:10.999 +0000 UTC". */
export function goTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().replace('T', ' ').replace('Z', '')} +0000 UTC`;
}

function expired(t: Pick<ACLToken, 'ExpirationTime'>, nowMs: number): boolean {
  return t.ExpirationTime !== null && t.ExpirationTime !== '' && Date.parse(t.ExpirationTime) <= nowMs;
}

export function formatToken(t: ACLToken): string {
  return formatKV([
    ['Accessor ID', t.AccessorID],
    ['Secret ID', t.SecretID],
    ['Name', t.Name],
    ['Type', t.Type],
    ['Global', t.Global],
    ['Create Time', goTime(t.CreateTime)],
    ['Expiry Time', t.ExpirationTime === null || t.ExpirationTime === '' ? '<none>' : goTime(t.ExpirationTime)],
    ['Create Index', t.CreateIndex],
    ['Modify Index', t.ModifyIndex],
    ['Policies', t.Type === 'management' ? 'n/a' : `[${t.Policies.join(' ')}]`],
  ]);
}

export function formatTokenList(tokens: readonly ACLTokenListStub[], nowMs: number): string {
  if (tokens.length === 0) return 'No tokens found';
  return formatList([['Name', 'Type', 'Global', 'Accessor ID', 'Expired'], ...tokens.map((t) => [t.Name, t.Type, t.Global, t.AccessorID, expired(t, nowMs)] as const)]);
}

export function formatPolicyList(policies: readonly ACLPolicyListStub[]): string {
  if (policies.length === 0) return 'No policies found';
  return formatList([['Name', 'Description'], ...policies.map((p) => [p.Name, p.Description] as const)]);
}

export function formatPolicy(p: ACLPolicy): string {
  const head = formatKV([
    ['Name', p.Name],
    ['Description', p.Description],
    ['CreateIndex', p.CreateIndex],
    ['ModifyIndex', p.ModifyIndex],
  ]);
  return `${head}\n\nRules:\n\n${p.Rules.trimEnd()}`;
}
