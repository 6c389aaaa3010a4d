import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SrcBody } from './hcl-source.js';
import { decodeQuoted, scanHCL } from './hcl-source.js';

/** The scan as compact text: `name@line,col` for attributes, `type "label"@line,col { ... }` for blocks. */
function outline(body: SrcBody): string[] {
  return body.items.map((i) =>
    i.kind === 'attr'
      ? `${i.name}${i.objectCons ? '={}' : ''}@${i.pos.line},${i.pos.col}`
      : `${[i.type, ...i.labels.map((l) => JSON.stringify(l))].join(' ')}@${i.pos.line},${i.pos.col} { ${outline(i.body).join(' ')} }`,
  );
}

void test('blocks and attributes come back in source order with their positions', () => {
  const src = [
    'job "b" {',
    '  group "z" {',
    '    count = 2',
    '  }',
    '  group "a" {}',
    '}',
  ].join('\n');
  assert.deepEqual(outline(scanHCL(src)), ['job "b"@1,1 { group "z"@2,3 { count@3,5 } group "a"@5,3 {  } }']);
});

void test('values are skipped whatever they contain', () => {
  const src = [
    'a = "braces } { and ${ "}" } inside"',
    'b = [',
    '  1, { x = "}" },',
    ']',
    'c = <<-EOT',
    '  }}} not the end',
    '  EOT',
    'd = { k = "v" } # comment }',
    '// another } comment',
    '/* block } comment */ e = 1',
    'f = "$${literal}"',
    'g = fn(1,',
    '  2)',
    'h "one-line" { to = 1 }',
    'i = "end"',
  ].join('\n');
  assert.deepEqual(outline(scanHCL(src)), [
    'a@1,1',
    'b@2,1',
    'c@5,1',
    'd={}@8,1',
    'e@10,23',
    'f@11,1',
    'g@12,1',
    'h "one-line"@14,1 { to@14,16 }',
    'i@15,1',
  ]);
});

void test('labels may be quoted with escapes or bare identifiers; CRLF and a BOM are fine', () => {
  const src = '\ufeffx "a\\"b" bare "\\u00e9" {\r\n  y = 1\r\n}\r\n';
  const [block] = scanHCL(src).items;
  assert.ok(block?.kind === 'block');
  assert.deepEqual(block.labels, ['a"b', 'bare', '\u00e9']);
  assert.deepEqual(outline(block.body), ['y@2,3']);
});

void test('decodeQuoted undoes HCL string escapes', () => {
  assert.equal(decodeQuoted('"a\\nb\\t\\\\\\U0001F600"'), 'a\nb\t\\\u{1F600}');
});
