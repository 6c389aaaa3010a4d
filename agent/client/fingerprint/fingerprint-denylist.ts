/**
 * Nomad's client option `fingerprint.denylist` (and the older `fingerprint.blacklist`): a
 * comma-separated list of fingerprinters to skip. Host fingerprinters here are one pass, so
 * a denied one is applied by removing what it would have reported; device fingerprinters
 * ("nvidia-gpu", or "nvidia" as Nomad's plugin is called) are not run at all. Names this
 * client does not have are ignored, as Nomad ignores them.
 */
import type { NodeResources } from '../../../structs/resources.js';
import type { DeviceFingerprinter } from './device-fingerprinter.js';

/** Attribute prefixes each deniable host fingerprinter owns (Nomad's fingerprinter names). */
const HOST_FINGERPRINTERS: Record<string, string[]> = {
  network: ['unique.network.'],
  storage: ['unique.storage.'],
  cgroup: ['os.cgroups.', 'unique.cgroup.'],
  host: ['kernel.', 'os.name', 'os.version', 'unique.hostname'],
};

/** "a, b,,c" → ["a", "b", "c"]: Nomad's comma-separated option lists. */
export function optionList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The device fingerprinters that are not denied. */
export function allowedDevices(devices: DeviceFingerprinter[], denylist: readonly string[]): DeviceFingerprinter[] {
  const denied = new Set(denylist);
  return devices.filter((d) => !denied.has(d.name) && !denied.has(d.name.split('-')[0] ?? d.name));
}

/** Removes what the denied host fingerprinters found; returns new objects. */
export function applyFingerprintDenylist(
  attributes: Record<string, string>,
  resources: NodeResources,
  denylist: readonly string[],
): { attributes: Record<string, string>; resources: NodeResources } {
  const prefixes = denylist.flatMap((n) => HOST_FINGERPRINTERS[n] ?? []);
  const kept = Object.fromEntries(Object.entries(attributes).filter(([k]) => !prefixes.some((p) => k.startsWith(p))));
  return { attributes: kept, resources: denylist.includes('network') ? { ...resources, Networks: [] } : resources };
}
