/** `-var key=value` flags of `job run` / `job validate`, as the map the jobspec parser takes. */
import { UsageError } from './usage.js';

/** Later flags win; a value may itself contain `=`. */
export function parseVarFlags(vars: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of vars) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid -var "${v}": expected key=value`);
    out[v.slice(0, eq).trim()] = v.slice(eq + 1);
  }
  return out;
}
