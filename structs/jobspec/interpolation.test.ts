import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateValue, interpolateString, InterpolationError, literalValue } from './interpolation.js';

const vars = new Map<string, unknown>([
  ['n', 3],
  ['name', 'web'],
  ['on', true],
  ['dcs', ['dc1', 'dc2']],
  ['cfg', { port: 8080, tags: ['a'] }],
]);

void test('a lone variable reference keeps the value and its type', () => {
  assert.equal(interpolateString('${var.n}', vars), 3);
  assert.equal(interpolateString('${var.on}', vars), true);
  assert.deepEqual(interpolateString('${var.dcs}', vars), ['dc1', 'dc2']);
  assert.equal(interpolateString('${var.dcs[1]}', vars), 'dc2');
  assert.equal(interpolateString('${var.cfg.port}', vars), 8080);
  assert.equal(interpolateString('${var["name"]}', vars), 'web');
  assert.equal(interpolateString('${var.cfg["tags"][0]}', vars), 'a');
});

void test('references inside text become text; runtime references and escapes stay as written', () => {
  assert.equal(interpolateString('${var.name}-${var.n}:${var.on}', vars), 'web-3:true');
  assert.equal(interpolateString('${attr.kernel.name}', vars), '${attr.kernel.name}');
  assert.equal(interpolateString('${NOMAD_ALLOC_DIR}/${var.name} ${env["HOME"]}', vars), '${NOMAD_ALLOC_DIR}/web ${env["HOME"]}');
  assert.equal(interpolateString('$${var.name} %%{x} 100$', vars), '${var.name} %{x} 100$');
  assert.deepEqual(evaluateValue({ a: ['${var.n}', { b: '${node.unique.id}' }], c: 1 }, vars), { a: [3, { b: '${node.unique.id}' }], c: 1 });
});

void test('what cannot be evaluated is refused with a reason', () => {
  const cases: Array<[string, string]> = [
    ['${var.n + 1}', 'unsupported expression "${var.n + 1}": only variable references such as ${var.name} are evaluated, and runtime references such as ${attr.kernel.name} are passed through'],
    ['${upper(var.name)}', 'unsupported expression "${upper(var.name)}": only variable references such as ${var.name} are evaluated, and runtime references such as ${attr.kernel.name} are passed through'],
    ['${local.x}', '"${local.x}": locals are not supported; use a variable'],
    ['${var.nope}', 'reference to undeclared variable "nope" in "${var.nope}"'],
    ['${var.dcs[5]}', '"${var.dcs[5]}": index 5 is out of range (the list has 2 elements)'],
    ['${var.cfg.missing}', '"${var.cfg.missing}": the value has no element "missing"'],
    ['x${var.dcs}', '"${var.dcs}" is a list and cannot be part of a string'],
    ['%{if true}x%{endif}', 'template directives such as "%{if true}" are not supported'],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => interpolateString(text, vars), (e: unknown) => e instanceof InterpolationError && e.message === message, text);
  }
});

void test('literal values undo escapes and refuse references', () => {
  assert.deepEqual(literalValue(['$${x}', { a: 1 }]), ['${x}', { a: 1 }]);
  assert.throws(() => literalValue('${attr.x}'), /a variable value cannot refer to other values/);
});
