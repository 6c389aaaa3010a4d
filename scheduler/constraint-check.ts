/**
 * Evaluating one constraint against one node: resolve `${...}` targets against the node
 * (Nomad's resolveTarget) and apply the operand (Nomad's checkConstraint).
 */
import type { Constraint } from '../structs/constraint.js';
import type { Node } from '../structs/node.js';

/** Resolve an `${attr.x}` / `${meta.x}` / `${node.*}` target; a non-interpolated string is a literal. */
export function resolveTarget(target: string, node: Node): string | undefined {
  const m = /^\$\{(.+)\}$/.exec(target.trim());
  if (!m) return target;
  const key = m[1]!;
  switch (key) {
    case 'node.unique.id':
      return node.ID;
    case 'node.unique.name':
      return node.Name;
    case 'node.datacenter':
      return node.Datacenter;
    case 'node.class':
      return node.NodeClass;
    case 'node.pool':
      return node.NodePool;
    default:
      if (key.startsWith('attr.')) return node.Attributes[key.slice(5)];
      if (key.startsWith('meta.')) return node.Meta[key.slice(5)];
      return undefined;
  }
}

function compareOrdered(l: string, r: string): number {
  const ln = Number(l);
  const rn = Number(r);
  if (l.trim() !== '' && r.trim() !== '' && Number.isFinite(ln) && Number.isFinite(rn)) return ln - rn;
  return l < r ? -1 : l > r ? 1 : 0;
}

function parseVersion(v: string): number[] | null {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function cmpVersion(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `>= 1.2, < 2.0` style version constraints (all clauses must hold). */
export function checkVersion(value: string, spec: string): boolean {
  const v = parseVersion(value);
  if (!v) return false;
  return spec.split(',').every((clause) => {
    const m = /^\s*(>=|<=|!=|>|<|=|~>)?\s*(\S+)\s*$/.exec(clause);
    if (!m) return false;
    const want = parseVersion(m[2]!);
    if (!want) return false;
    const c = cmpVersion(v, want);
    switch (m[1] ?? '=') {
      case '>=':
        return c >= 0;
      case '<=':
        return c <= 0;
      case '>':
        return c > 0;
      case '<':
        return c < 0;
      case '!=':
        return c !== 0;
      case '~>': {
        // Pessimistic: >= want and < next significant release.
        const parts = m[2]!.replace(/^v/, '').split('.').length;
        const upper = parts <= 2 ? [want[0]! + 1, 0, 0] : [want[0]!, want[1]! + 1, 0];
        return c >= 0 && cmpVersion(v, upper) < 0;
      }
      default:
        return c === 0;
    }
  });
}

const splitSet = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export function checkConstraint(c: Constraint, node: Node): boolean {
  return applyOperand(c.Operand, resolveTarget(c.LTarget, node), resolveTarget(c.RTarget, node));
}

/** An operand applied to already-resolved sides (undefined: the target is not set). */
export function applyOperand(operand: Constraint['Operand'], l: string | undefined, r: string | undefined): boolean {
  switch (operand) {
    case 'is_set':
      return l !== undefined;
    case 'is_not_set':
      return l === undefined;
    case 'distinct_hosts':
    case 'distinct_property':
      return true;
    default:
      break;
  }
  if (l === undefined || r === undefined) return false;
  switch (operand) {
    case '=':
    case '==':
    case 'is':
      return l === r;
    case '!=':
    case 'not':
      return l !== r;
    case '<':
      return compareOrdered(l, r) < 0;
    case '<=':
      return compareOrdered(l, r) <= 0;
    case '>':
      return compareOrdered(l, r) > 0;
    case '>=':
      return compareOrdered(l, r) >= 0;
    case 'regexp':
      try {
        return new RegExp(r).test(l);
      } catch {
        return false;
      }
    case 'version':
    case 'semver':
      return checkVersion(l, r);
    case 'set_contains':
    case 'set_contains_all': {
      const have = new Set(splitSet(l));
      return splitSet(r).every((x) => have.has(x));
    }
    case 'set_contains_any': {
      const have = new Set(splitSet(l));
      return splitSet(r).some((x) => have.has(x));
    }
  }
}
