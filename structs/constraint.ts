/**
 * Constraints, affinities and spreads, in Nomad's API shape. The operand strings are
 * Nomad's, so job files carry over unchanged.
 */

export const CONSTRAINT_OPERANDS = [
  '=',
  '==',
  'is',
  '!=',
  'not',
  '<',
  '<=',
  '>',
  '>=',
  'regexp',
  'version',
  'semver',
  'set_contains',
  'set_contains_all',
  'set_contains_any',
  'is_set',
  'is_not_set',
  'distinct_hosts',
  'distinct_property',
] as const;
export type ConstraintOperand = (typeof CONSTRAINT_OPERANDS)[number];

export interface Constraint {
  /** Left side: an interpolation such as `${attr.kernel.name}` or a literal. */
  LTarget: string;
  /** Right side: the value to compare against (for distinct_property, the per-value limit). */
  RTarget: string;
  Operand: ConstraintOperand;
}

export interface Affinity {
  LTarget: string;
  RTarget: string;
  Operand: ConstraintOperand;
  /** -100..100, non-zero. */
  Weight: number;
}

export interface SpreadTarget {
  Value: string;
  Percent: number;
}

export interface Spread {
  Attribute: string;
  /** 0..100. */
  Weight: number;
  SpreadTarget: SpreadTarget[];
}

export function isConstraintOperand(v: string): v is ConstraintOperand {
  return (CONSTRAINT_OPERANDS as readonly string[]).includes(v);
}

/** Human-readable form used in placement-failure reports: `${attr.kernel.name} = linux`. */
export function constraintString(c: Constraint): string {
  return `${c.LTarget} ${c.Operand} ${c.RTarget}`.trim();
}
