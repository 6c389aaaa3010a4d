import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EscapeFilter, escapeByte } from './escape-sequence.js';

async function through(input: string[], escape = '~'): Promise<{ out: string; disconnected: boolean }> {
  let disconnected = false;
  const f = new EscapeFilter(escapeByte(escape)!, () => (disconnected = true));
  const chunks: Buffer[] = [];
  f.on('data', (c: Buffer) => chunks.push(c));
  for (const i of input) f.write(Buffer.from(i));
  f.end();
  await new Promise((r) => f.once('finish', r));
  return { out: Buffer.concat(chunks).toString('utf8'), disconnected };
}

void test('~. at the start of a line leaves the session; what came before it is sent', async () => {
  assert.deepEqual(await through(['ls\r', '~', '.']), { out: 'ls\r', disconnected: true });
  assert.deepEqual(await through(['~.']), { out: '', disconnected: true }, 'the very start counts as a line start');
});

void test('a ~ inside a line, ~~ and ~ followed by anything else pass through as typed', async () => {
  assert.deepEqual(await through(['echo a~.b\r']), { out: 'echo a~.b\r', disconnected: false });
  assert.deepEqual(await through(['\r~~.\r']), { out: '\r~.\r', disconnected: false });
  assert.deepEqual(await through(['\r~x']), { out: '\r~x', disconnected: false });
});

void test('-e picks another character, or none', () => {
  assert.equal(escapeByte('^'), 0x5e);
  assert.equal(escapeByte('none'), null);
  assert.throws(() => escapeByte('ab'), /one ASCII character/);
});
