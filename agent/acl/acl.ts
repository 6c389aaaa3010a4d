/**
 * A compiled ACL: the merged rules of every policy a token holds, answering "may this token
 * do X". Merging follows Nomad's acl.NewACL:
 *   - rules for the same namespace label are unioned; a `deny` among them wins and leaves
 *     nothing granted;
 *   - node, agent and operator dispositions take the most privileged one, except that
 *     `deny` in any policy wins;
 *   - a namespace is looked up by exact label first; failing that, among glob labels that
 *     match it the closest one applies (the fewest characters left to the wildcards), ties
 *     broken by the label's sort order (Nomad walks its radix tree in that order).
 */
import { levelAllows, mergeLevel, type Level, type NamespaceCapability } from './capabilities.js';
import type { PolicyRules } from './policy-rules.js';

type CapSet = ReadonlySet<NamespaceCapability>;

interface GlobRule {
  pattern: string;
  re: RegExp;
  /** Characters of the pattern that are not wildcards, to rank how close a match is. */
  literalLength: number;
  caps: CapSet;
}

export class Acl {
  private constructor(
    readonly isManagement: boolean,
    private readonly exact: ReadonlyMap<string, CapSet>,
    private readonly globs: readonly GlobRule[],
    private readonly node: Level | undefined,
    private readonly agent: Level | undefined,
    private readonly operator: Level | undefined,
  ) {}

  /** The ACL of a management token: everything is allowed. */
  static management(): Acl {
    return new Acl(true, new Map(), [], 'write', 'write', 'write');
  }

  /** An ACL that allows nothing. */
  static denyAll(): Acl {
    return new Acl(false, new Map(), [], undefined, undefined, undefined);
  }

  static compile(policies: readonly PolicyRules[]): Acl {
    const byLabel = new Map<string, Set<NamespaceCapability>>();
    let node: Level | undefined;
    let agent: Level | undefined;
    let operator: Level | undefined;
    for (const p of policies) {
      for (const ns of p.namespaces) {
        const set = byLabel.get(ns.pattern) ?? byLabel.set(ns.pattern, new Set()).get(ns.pattern)!;
        for (const c of ns.capabilities) set.add(c);
      }
      if (p.node !== undefined) node = mergeLevel(node, p.node);
      if (p.agent !== undefined) agent = mergeLevel(agent, p.agent);
      if (p.operator !== undefined) operator = mergeLevel(operator, p.operator);
    }
    const exact = new Map<string, CapSet>();
    const globs: GlobRule[] = [];
    for (const [label, caps] of byLabel) {
      const merged: CapSet = caps.has('deny') ? new Set<NamespaceCapability>(['deny']) : caps;
      if (label.includes('*')) {
        globs.push({ pattern: label, re: globToRegExp(label), literalLength: label.replace(/\*/g, '').length, caps: merged });
      } else {
        exact.set(label, merged);
      }
    }
    globs.sort((a, b) => (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0));
    return new Acl(false, exact, globs, node, agent, operator);
  }

  /** The capabilities this ACL has in a namespace (empty when a deny applies). */
  namespaceCapabilities(namespace: string): CapSet {
    const caps = this.exact.get(namespace) ?? this.closestGlob(namespace);
    if (caps === undefined || caps.has('deny')) return new Set();
    return caps;
  }

  allowNamespaceOperation(namespace: string, cap: NamespaceCapability): boolean {
    if (this.isManagement) return true;
    return this.namespaceCapabilities(namespace).has(cap);
  }

  /** Any capability at all in the namespace: what it takes to see that the namespace exists. */
  allowNamespace(namespace: string): boolean {
    if (this.isManagement) return true;
    return this.namespaceCapabilities(namespace).size > 0;
  }

  allowNode(want: 'read' | 'write'): boolean {
    return this.isManagement || levelAllows(this.node, want);
  }

  allowAgent(want: 'read' | 'write'): boolean {
    return this.isManagement || levelAllows(this.agent, want);
  }

  allowOperator(want: 'read' | 'write'): boolean {
    return this.isManagement || levelAllows(this.operator, want);
  }

  private closestGlob(namespace: string): CapSet | undefined {
    let best: GlobRule | undefined;
    for (const g of this.globs) {
      if (!g.re.test(namespace)) continue;
      if (best === undefined || namespace.length - g.literalLength < namespace.length - best.literalLength) best = g;
    }
    return best?.caps;
  }
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}
