import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ADDRESS, normalizeAddress, resolveClientConfig } from './config.js';

void test('address: flag, then YURT_ADDR, then NOMAD_ADDR, then the default', () => {
  const env = { YURT_ADDR: 'http://yurt:1', NOMAD_ADDR: 'http://nomad:2' };
  assert.equal(resolveClientConfig({ address: 'http://flag:3' }, env).address, 'http://flag:3');
  assert.equal(resolveClientConfig({}, env).address, 'http://yurt:1');
  assert.equal(resolveClientConfig({}, { NOMAD_ADDR: 'http://nomad:2' }).address, 'http://nomad:2');
  assert.equal(resolveClientConfig({}, {}).address, DEFAULT_ADDRESS);
});

void test('token, region and namespace follow the same precedence', () => {
  const c = resolveClientConfig({ region: 'eu' }, { NOMAD_TOKEN: 'n', YURT_TOKEN: 'y', NOMAD_REGION: 'us', NOMAD_NAMESPACE: 'prod' });
  assert.deepEqual(c, { address: DEFAULT_ADDRESS, token: 'y', region: 'eu', namespace: 'prod' });
});

void test('addresses without a scheme get http://, trailing slashes go', () => {
  assert.equal(normalizeAddress('127.0.0.1:4646/'), 'http://127.0.0.1:4646');
  assert.equal(normalizeAddress('https://nomad.example:4646'), 'https://nomad.example:4646');
});
