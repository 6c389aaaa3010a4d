/** The yurt version, read from the package's package.json (one place for the number). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * Walks up from this module to the package.json named "yurt": two levels from the sources
 * (cli/version.ts), three from the build (dist/cli/version.js).
 */
export function yurtVersion(): string {
  if (cached !== undefined) return cached;
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'yurt' && typeof pkg.version === 'string') {
        cached = pkg.version;
        return cached;
      }
    } catch {
      // Not at this level; try the next one up.
    }
  }
  cached = 'unknown';
  return cached;
}
