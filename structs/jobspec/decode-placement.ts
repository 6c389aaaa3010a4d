/**
 * constraint, affinity and spread blocks (job, group, task and device level), with Nomad's
 * shorthand forms: `distinct_hosts = true`, `distinct_property = "${meta.rack}"`,
 * `regexp = "..."`, `version = ">= 1.2"`, `semver`, `set_contains`, `set_contains_all`,
 * `set_contains_any` (jobspec2's decodeConstraint / decodeAffinity).
 */
import type { Affinity, Constraint, Spread } from '../constraint.js';
import type { Input } from '../job-defaults.js';
import type { BodyReader } from './body-reader.js';

const VALUE_SHORTHANDS = ['regexp', 'version', 'semver', 'set_contains', 'set_contains_all', 'set_contains_any'] as const;

export function decodeConstraints(parent: BodyReader, field = 'Constraints'): Array<Input<Constraint>> {
  return parent.blocks('constraint', []).map((b, i) => {
    const r = parent.child(b, parent.field(`${field}[${i}]`));
    const c: Input<Constraint> = {
      LTarget: r.string('attribute', 'LTarget'),
      Operand: r.string('operator', 'Operand'),
      RTarget: r.string('value', 'RTarget'),
    };
    for (const op of VALUE_SHORTHANDS) {
      const v = r.string(op, 'RTarget');
      if (v !== undefined && v !== '') {
        c.Operand = op;
        c.RTarget = v;
      }
    }
    if (r.bool('distinct_hosts', 'Operand') === true) c.Operand = 'distinct_hosts';
    const property = r.string('distinct_property', 'LTarget');
    if (property !== undefined && property !== '') {
      c.Operand = 'distinct_property';
      c.LTarget = property;
    }
    if (c.Operand === undefined || c.Operand === '') c.Operand = '=';
    r.finish();
    return c;
  });
}

export function decodeAffinities(parent: BodyReader, field = 'Affinities'): Array<Input<Affinity>> {
  return parent.blocks('affinity', []).map((b, i) => {
    const r = parent.child(b, parent.field(`${field}[${i}]`));
    const a: Input<Affinity> = {
      LTarget: r.string('attribute', 'LTarget'),
      Operand: r.string('operator', 'Operand'),
      RTarget: r.string('value', 'RTarget'),
      Weight: r.number('weight', 'Weight'),
    };
    for (const op of VALUE_SHORTHANDS) {
      const v = r.string(op, 'RTarget');
      if (v !== undefined && v !== '') {
        a.Operand = op;
        a.RTarget = v;
      }
    }
    if (a.Operand === undefined || a.Operand === '') a.Operand = '=';
    r.finish();
    return a;
  });
}

export function decodeSpreads(parent: BodyReader): Array<Input<Spread>> {
  return parent.blocks('spread', []).map((b, i) => {
    const path = parent.field(`Spreads[${i}]`);
    const r = parent.child(b, path);
    const s: Input<Spread> = {
      Attribute: r.string('attribute', 'Attribute'),
      Weight: r.number('weight', 'Weight'),
      // `target "us-east-1" { percent = 40 }`: the label is the attribute value.
      SpreadTarget: r.blocks('target', ['value']).map((tb, j) => {
        const tr = r.child(tb, `${path}.SpreadTarget[${j}]`);
        const target = { Value: tr.string('value', 'Value') ?? tb.labels[0] ?? '', Percent: tr.number('percent', 'Percent') };
        tr.finish();
        return target;
      }),
    };
    r.finish();
    return s;
  });
}
