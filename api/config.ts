/**
 * Where the client connects and as whom. Precedence is Nomad's: an explicit value (a CLI
 * flag) first, then YURT_* environment variables, then the NOMAD_* ones (so existing Nomad
 * shell setups keep working), then the default agent address.
 */

export const DEFAULT_ADDRESS = 'http://127.0.0.1:4646';

export interface ApiClientConfig {
  /** Base URL of an agent's HTTP API, e.g. `http://127.0.0.1:4646`. */
  address: string;
  /** ACL token, sent as `X-Nomad-Token`. */
  token?: string | undefined;
  region?: string | undefined;
  namespace?: string | undefined;
}

export interface ExplicitConfig {
  address?: string | undefined;
  token?: string | undefined;
  region?: string | undefined;
  namespace?: string | undefined;
}

type Env = Record<string, string | undefined>;

function firstSet(...values: Array<string | undefined>): string | undefined {
  return values.find((v) => v !== undefined && v !== '');
}

export function resolveClientConfig(explicit: ExplicitConfig, env: Env): ApiClientConfig {
  const address = firstSet(explicit.address, env['YURT_ADDR'], env['NOMAD_ADDR']) ?? DEFAULT_ADDRESS;
  return {
    address: normalizeAddress(address),
    token: firstSet(explicit.token, env['YURT_TOKEN'], env['NOMAD_TOKEN']),
    region: firstSet(explicit.region, env['YURT_REGION'], env['NOMAD_REGION']),
    namespace: firstSet(explicit.namespace, env['YURT_NAMESPACE'], env['NOMAD_NAMESPACE']),
  };
}

/**
 * Accepts `host:port` and full URLs alike (Nomad's NOMAD_ADDR takes a URL; people often
 * leave the scheme out). Trailing slashes are dropped so paths join cleanly.
 */
export function normalizeAddress(address: string): string {
  let a = address.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(a)) a = `http://${a}`;
  return a.replace(/\/+$/, '');
}
