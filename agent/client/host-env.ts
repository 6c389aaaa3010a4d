/**
 * The host environment a task inherits. Nomad passes the client agent's own environment to
 * exec and raw_exec tasks, beneath the task's variables, less `options { "env.denylist" }`;
 * users count on it (a PATH with their toolchain or a Python environment, proxy settings,
 * LD_LIBRARY_PATH for CUDA), and jobs brought over from Nomad would break without it. Drivers
 * that start from an image or a sandbox (docker, wasi) get none of it.
 */

/**
 * Nomad's DefaultEnvDenyList (secrets an agent may hold that no task should see), plus the
 * agent's own API tokens under both names. Setting `env.denylist` replaces it, as in Nomad.
 */
export const DEFAULT_ENV_DENYLIST: readonly string[] = [
  'CONSUL_TOKEN',
  'CONSUL_HTTP_TOKEN',
  'VAULT_TOKEN',
  'NOMAD_LICENSE',
  'NOMAD_TOKEN',
  'YURT_TOKEN',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'GOOGLE_APPLICATION_CREDENTIALS',
];

/** The variables of `env` that tasks may inherit. */
export function taskHostEnv(env: NodeJS.ProcessEnv, denylist: readonly string[] = DEFAULT_ENV_DENYLIST): Record<string, string> {
  const denied = new Set(denylist);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !denied.has(k)) out[k] = v;
  return out;
}
