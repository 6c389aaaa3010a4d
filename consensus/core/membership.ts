/**
 * The configuration in force (thesis §4.1: a server uses the latest configuration in its
 * log, committed or not), where it comes from, and the leader's per-server progress that
 * follows it.
 */
import type { IndexedConfiguration } from './configuration.js';
import { decodeConfiguration, emptyConfiguration, voterIds } from './configuration.js';
import type { CoreState } from './core-state.js';
import { Progress } from './progress.js';

/** The latest configuration at or below `index`: from the unstable tail, the stored
 *  configuration entries, or the snapshot that replaced them. */
export function configurationAt(s: CoreState, index: number): IndexedConfiguration {
  const u = s.log.unstable;
  for (let i = Math.min(index, u.offset + u.entries.length - 1); i >= u.offset; i--) {
    const e = u.entries[i - u.offset];
    if (e?.type === 'config') return { index: e.index, configuration: decodeConfiguration(e.data, e.index) };
  }
  const pending = u.snapshot?.meta;
  if (pending !== undefined) return { index: pending.configIndex, configuration: pending.configuration };
  const storage = s.log.storage;
  const e = storage.lastConfig(Math.min(index, u.offset - 1));
  const snap = storage.snapshot();
  if (e !== undefined && e.index >= snap.configIndex) return { index: e.index, configuration: decodeConfiguration(e.data, e.index) };
  // No configuration entry above the snapshot's up to `index`: the snapshot's is in force.
  if (snap.index > 0 && snap.configIndex <= index) return { index: snap.configIndex, configuration: snap.configuration };
  return emptyConfiguration;
}

export function setConfiguration(s: CoreState, c: IndexedConfiguration): void {
  s.config = c;
  if (s.role === 'leader') syncProgress(s);
}

/** Leader: one Progress per server of the configuration, keeping what we know. */
export function syncProgress(s: CoreState): void {
  const ids = new Set(s.config.configuration.servers.map((x) => x.id));
  for (const id of s.prs.keys()) {
    if (!ids.has(id)) s.prs.delete(id);
  }
  for (const id of ids) {
    if (!s.prs.has(id)) s.prs.set(id, new Progress(s.log.lastIndex() + 1, s.maxInflight));
  }
}

/** The voter (other than us) with the longest matching log. */
export function bestTransferTarget(s: CoreState): string | undefined {
  let best: string | undefined;
  let bestMatch = -1;
  for (const id of voterIds(s.config.configuration)) {
    const m = s.prs.get(id)?.match ?? -1;
    if (id !== s.id && m > bestMatch) {
      best = id;
      bestMatch = m;
    }
  }
  return best;
}
