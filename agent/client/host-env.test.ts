import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ENV_DENYLIST, taskHostEnv } from './host-env.js';

void test("tasks inherit the agent's environment less Nomad's default denylist of secrets", () => {
  const env = { PATH: '/opt/conda/bin:/usr/bin', HTTPS_PROXY: 'http://proxy:3128', VAULT_TOKEN: 's.secret', AWS_SECRET_ACCESS_KEY: 'k', YURT_TOKEN: 't', CONSUL_HTTP_TOKEN: 'c' };
  assert.deepEqual(taskHostEnv(env), { PATH: '/opt/conda/bin:/usr/bin', HTTPS_PROXY: 'http://proxy:3128' });
  for (const name of ['CONSUL_TOKEN', 'CONSUL_HTTP_TOKEN', 'VAULT_TOKEN', 'NOMAD_LICENSE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'GOOGLE_APPLICATION_CREDENTIALS']) {
    assert.ok(DEFAULT_ENV_DENYLIST.includes(name), `${name} is in Nomad's default list`);
  }
});

void test('an env.denylist replaces the default list, as in Nomad', () => {
  const env = { PATH: '/usr/bin', VAULT_TOKEN: 's.secret', DB_PASSWORD: 'p', UNSET: undefined };
  assert.deepEqual(taskHostEnv(env, ['DB_PASSWORD']), { PATH: '/usr/bin', VAULT_TOKEN: 's.secret' });
  assert.deepEqual(taskHostEnv(env, []), { PATH: '/usr/bin', VAULT_TOKEN: 's.secret', DB_PASSWORD: 'p' });
});
