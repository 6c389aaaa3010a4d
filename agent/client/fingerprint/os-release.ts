/**
 * The distribution from os-release(5): ID ("debian", "ubuntu") and VERSION_ID ("12"),
 * which is how Nomad's `os.name` / `os.version` read ("ubuntu", "22.04").
 */
import { readFile } from 'node:fs/promises';

export interface OsRelease {
  id: string;
  versionId: string;
}

export function parseOsRelease(text: string): Partial<OsRelease> {
  const out: Partial<OsRelease> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m === null) continue;
    const value = (m[2] ?? '').replace(/^(["'])(.*)\1$/, '$2');
    if (m[1] === 'ID') out.id = value;
    else if (m[1] === 'VERSION_ID') out.versionId = value;
  }
  return out;
}

/** Tries /etc/os-release, then /usr/lib/os-release (the fallback the spec names). */
export async function readOsRelease(paths = ['/etc/os-release', '/usr/lib/os-release']): Promise<Partial<OsRelease>> {
  for (const p of paths) {
    try {
      return parseOsRelease(await readFile(p, 'utf8'));
    } catch {
      // try the next one
    }
  }
  return {};
}
