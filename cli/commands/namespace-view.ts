/** How the `namespace` commands print namespaces, in Nomad's layout. */
import type { Namespace } from '../../structs/acl.js';
import { formatKV, formatList } from '../format/table.js';

export function formatNamespaceList(list: readonly Namespace[]): string {
  if (list.length === 0) return 'No namespaces found';
  return formatList([['Name', 'Description'], ...list.map((n) => [n.Name, n.Description] as const)]);
}

export function formatNamespace(ns: Namespace): string {
  const out = [formatKV([['Name', ns.Name], ['Description', ns.Description], ['Quota', '']])];
  const meta = Object.entries(ns.Meta ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (meta.length > 0) out.push(`Metadata\n${formatKV(meta)}`);
  return out.join('\n\n');
}
