/**
 * How config layers combine (defaults < dev layer < files in order < flags), following
 * Nomad's Config.Merge (command/agent/config.go):
 *   - a value set in a later layer replaces the earlier one; unset (undefined) keeps it;
 *   - maps merge key by key (meta, options, host volumes by name);
 *   - lists replace, as Nomad does for server_join.retry_join, except `client.servers`,
 *     which Nomad appends (a later file adds servers), and the list of files loaded;
 *   - a host volume given again replaces the earlier one whole, like Nomad's
 *     HostVolumeSliceMerge, so a later `read_only` cannot leak into a new path.
 * One deliberate difference: Nomad merges booleans with `if b.Enabled { result = true }`, so
 * a later file cannot turn a setting off; here an explicit `false` wins like any value.
 */

const appendPaths: ReadonlySet<string> = new Set(['client.servers', 'files']);
const replaceEntriesOf: ReadonlySet<string> = new Set(['client.hostVolumes']);

/** `over` merged onto `base`; neither is modified. `path` is where these values sit in the config. */
export function mergeConfigAt<T>(base: T, over: T, path = ''): T {
  return mergeValue(base, over, path) as T;
}

function mergeValue(base: unknown, over: unknown, path: string): unknown {
  if (over === undefined) return clone(base);
  if (Array.isArray(over)) {
    const items: unknown[] = over;
    if (appendPaths.has(path) && Array.isArray(base)) return [...new Set<unknown>([...(base as unknown[]), ...items])];
    return [...items];
  }
  if (isPlainObject(over)) {
    if (!isPlainObject(base)) return clone(over);
    const out: Record<string, unknown> = clone(base) as Record<string, unknown>;
    for (const [k, v] of Object.entries(over)) {
      out[k] = replaceEntriesOf.has(path) ? clone(v) : mergeValue(out[k], v, path === '' ? k : `${path}.${k}`);
    }
    return out;
  }
  return over;
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]));
  return v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
