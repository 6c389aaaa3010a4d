/**
 * The task `config` block of the docker driver, in Nomad's shape (its docs: "Use the Docker
 * task driver in a job"), checked and turned into a typed DockerTaskConfig.
 *
 * Values arrive as the jobspec decoder leaves them: HCL blocks (`mount { ... }`,
 * `labels { ... }`) come as lists of objects, JSON jobs may give a plain object; both are
 * accepted. Unknown keys are errors, as Nomad's HCL spec decoding rejects them, so a typo
 * never silently does nothing.
 */
import { isAbsolute, normalize } from 'node:path';
import { parseDuration } from '../../structs/duration.js';
import { RESERVED_LABEL_PREFIX } from './labels.js';

export type MountType = 'bind' | 'volume' | 'tmpfs';

export interface DockerMount {
  type: MountType;
  /** Host path (bind, relative to the task dir when not absolute) or volume name; '' for tmpfs. */
  source: string;
  target: string;
  readonly: boolean;
}

/** A `volumes` entry: "host:container[:ro|rw]". */
export interface DockerVolume {
  source: string;
  target: string;
  readonly: boolean;
}

export interface DockerTaskConfig {
  image: string;
  command: string | null;
  args: string[];
  entrypoint: string[] | null;
  /** Port labels of the task's network block to publish. */
  ports: string[];
  networkMode: string | null;
  volumes: DockerVolume[];
  mounts: DockerMount[];
  labels: Record<string, string>;
  workDir: string | null;
  hostname: string | null;
  forcePull: boolean;
  imagePullTimeoutMs: number;
  /** Image tarball (`docker save` output), relative to the task dir. */
  load: string | null;
  /** 0 when unset. */
  memoryHardLimitMB: number;
  cpuHardLimit: boolean;
  cpuCfsPeriodUs: number;
  /** 0 when unset (unlimited). */
  pidsLimit: number;
  privileged: boolean;
}

/** Nomad's default image_pull_timeout. */
export const DEFAULT_IMAGE_PULL_TIMEOUT_MS = 5 * 60_000;
/** The kernel's default CFS period, Nomad's default cpu_cfs_period (microseconds). */
export const DEFAULT_CPU_CFS_PERIOD_US = 100_000;

type Check = (value: unknown, path: string, errors: string[]) => void;

const KEYS: Record<string, Check> = {
  image: (v, p, e) => nonEmptyString(v, p, e),
  command: (v, p, e) => nonEmptyString(v, p, e),
  args: stringList,
  entrypoint: stringList,
  ports: checkPorts,
  network_mode: checkNetworkMode,
  volumes: checkVolumes,
  mount: checkMounts,
  labels: checkLabels,
  work_dir: (v, p, e) => absolutePath(v, p, e),
  hostname: checkHostname,
  force_pull: bool,
  image_pull_timeout: checkDuration,
  load: checkLoad,
  memory_hard_limit: (v, p, e) => integer(v, p, e, 0, Number.MAX_SAFE_INTEGER),
  cpu_hard_limit: bool,
  // Docker accepts CFS periods from 1 ms to 1 s.
  cpu_cfs_period: (v, p, e) => integer(v, p, e, 1000, 1_000_000),
  pids_limit: (v, p, e) => integer(v, p, e, 0, Number.MAX_SAFE_INTEGER),
  privileged: bool,
};

export const SUPPORTED_KEYS: readonly string[] = Object.keys(KEYS);

/** Human-readable problems with `config`, each "config.<field>: <what is wrong>" (empty when valid). */
export function validateDockerConfig(config: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (config['image'] === undefined) errors.push('config.image: required (the Docker image to run)');
  for (const [key, value] of Object.entries(config)) {
    const check = KEYS[key];
    if (check === undefined) {
      errors.push(`config.${key}: unknown option (supported: ${SUPPORTED_KEYS.join(', ')})`);
      continue;
    }
    check(value, `config.${key}`, errors);
  }
  return errors;
}

/** The typed form of a config that validateDockerConfig accepted. */
export function parseDockerConfig(config: Record<string, unknown>): DockerTaskConfig {
  const str = (k: string): string | null => (typeof config[k] === 'string' ? config[k] : null);
  const list = (k: string): string[] | null => (Array.isArray(config[k]) ? (config[k] as unknown[]).map(String) : null);
  const num = (k: string, dflt: number): number => (typeof config[k] === 'number' ? config[k] : dflt);
  const timeout = str('image_pull_timeout');
  return {
    image: str('image') ?? '',
    command: str('command'),
    args: list('args') ?? [],
    entrypoint: list('entrypoint'),
    ports: list('ports') ?? [],
    networkMode: str('network_mode'),
    volumes: (list('volumes') ?? []).map(parseVolume),
    mounts: objects(config['mount']).map(parseMount),
    labels: flattenMap(config['labels']),
    workDir: str('work_dir'),
    hostname: str('hostname'),
    forcePull: config['force_pull'] === true,
    imagePullTimeoutMs: timeout === null ? DEFAULT_IMAGE_PULL_TIMEOUT_MS : parseDuration(timeout) / 1e6,
    load: str('load'),
    memoryHardLimitMB: num('memory_hard_limit', 0),
    cpuHardLimit: config['cpu_hard_limit'] === true,
    cpuCfsPeriodUs: num('cpu_cfs_period', DEFAULT_CPU_CFS_PERIOD_US),
    pidsLimit: num('pids_limit', 0),
    privileged: config['privileged'] === true,
  };
}

function nonEmptyString(v: unknown, path: string, errors: string[]): v is string {
  if (typeof v === 'string' && v.trim() !== '') return true;
  errors.push(`${path}: must be a non-empty string`);
  return false;
}

function stringList(v: unknown, path: string, errors: string[]): void {
  if (!(Array.isArray(v) && v.every((a) => typeof a === 'string'))) errors.push(`${path}: must be a list of strings`);
}

function bool(v: unknown, path: string, errors: string[]): void {
  if (typeof v !== 'boolean') errors.push(`${path}: must be true or false`);
}

function integer(v: unknown, path: string, errors: string[], min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) errors.push(`${path}: must be a whole number`);
  else if (v < min || v > max) errors.push(`${path}: must be between ${min} and ${max}`);
}

function absolutePath(v: unknown, path: string, errors: string[]): void {
  if (!nonEmptyString(v, path, errors)) return;
  if (!isAbsolute(v)) errors.push(`${path}: must be an absolute path inside the container, got "${v}"`);
}

function checkPorts(v: unknown, path: string, errors: string[]): void {
  if (!(Array.isArray(v) && v.every((a) => typeof a === 'string' && a !== ''))) {
    errors.push(`${path}: must be a list of port labels from the group's network block`);
    return;
  }
  const seen = new Set<string>();
  for (const label of v as string[]) {
    if (seen.has(label)) errors.push(`${path}: port label "${label}" is listed twice`);
    seen.add(label);
  }
}

function checkNetworkMode(v: unknown, path: string, errors: string[]): void {
  if (!nonEmptyString(v, path, errors)) return;
  // bridge, host, none, default, container:<name|id> or the name of a user-defined network.
  if (!/^(container:)?[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v)) {
    errors.push(`${path}: "${v}" is not a network mode (bridge, host, none, container:<name> or a network name)`);
  }
}

function checkHostname(v: unknown, path: string, errors: string[]): void {
  if (!nonEmptyString(v, path, errors)) return;
  // RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
  if (v.length > 253 || !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(v)) {
    errors.push(`${path}: "${v}" is not a valid host name`);
  }
}

function checkDuration(v: unknown, path: string, errors: string[]): void {
  if (typeof v !== 'string') {
    errors.push(`${path}: must be a duration such as "30s" or "5m"`);
    return;
  }
  try {
    if (parseDuration(v) <= 0) errors.push(`${path}: must be longer than 0`);
  } catch (e) {
    errors.push(`${path}: ${(e as Error).message}`);
  }
}

function checkLoad(v: unknown, path: string, errors: string[]): void {
  if (!nonEmptyString(v, path, errors)) return;
  if (isAbsolute(v) || escapes(v)) errors.push(`${path}: must be a path inside the task dir (e.g. "local/image.tar"), got "${v}"`);
}

/** A relative path that leaves the directory it is relative to. */
function escapes(p: string): boolean {
  const n = normalize(p);
  return n === '..' || n.startsWith('../');
}

function checkVolumes(v: unknown, path: string, errors: string[]): void {
  if (!Array.isArray(v)) {
    errors.push(`${path}: must be a list of "host_path:container_path[:ro]" strings`);
    return;
  }
  v.forEach((entry, i) => {
    const p = `${path}[${i}]`;
    if (typeof entry !== 'string') {
      errors.push(`${p}: must be a "host_path:container_path[:ro]" string`);
      return;
    }
    const parts = entry.split(':');
    const [src, dst, mode] = parts;
    if (parts.length < 2 || parts.length > 3 || src === '' || dst === '') {
      errors.push(`${p}: "${entry}" is not "host_path:container_path[:ro]"`);
    } else if (dst !== undefined && !isAbsolute(dst)) {
      errors.push(`${p}: container path "${dst}" must be absolute`);
    } else if (mode !== undefined && mode !== 'ro' && mode !== 'rw') {
      errors.push(`${p}: mode "${mode}" must be ro or rw`);
    }
  });
}

function parseVolume(entry: string): DockerVolume {
  const [source = '', target = '', mode] = entry.split(':');
  return { source, target, readonly: mode === 'ro' };
}

const MOUNT_KEYS = ['type', 'source', 'target', 'readonly'];

function checkMounts(v: unknown, path: string, errors: string[]): void {
  const blocks = objectsOrNull(v);
  if (blocks === null) {
    errors.push(`${path}: must be mount blocks ({ type, source, target, readonly })`);
    return;
  }
  blocks.forEach((m, i) => {
    const p = `${path}[${i}]`;
    for (const key of Object.keys(m)) {
      if (!MOUNT_KEYS.includes(key)) errors.push(`${p}.${key}: unknown option (supported: ${MOUNT_KEYS.join(', ')})`);
    }
    const type = m['type'] ?? 'volume';
    if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
      errors.push(`${p}.type: must be bind, volume or tmpfs, got ${JSON.stringify(type)}`);
    }
    if (m['target'] === undefined) errors.push(`${p}.target: required (the path inside the container)`);
    else absolutePath(m['target'], `${p}.target`, errors);
    const source = m['source'];
    if (type === 'tmpfs') {
      if (source !== undefined && source !== '') errors.push(`${p}.source: a tmpfs mount has no source`);
    } else if (source === undefined) {
      errors.push(`${p}.source: required for a ${JSON.stringify(type)} mount`);
    } else if (nonEmptyString(source, `${p}.source`, errors) && type === 'volume' && source.includes('/')) {
      errors.push(`${p}.source: a volume mount's source is a volume name, not a path ("${source}"); use type = "bind" for paths`);
    }
    if (m['readonly'] !== undefined) bool(m['readonly'], `${p}.readonly`, errors);
  });
}

function parseMount(m: Record<string, unknown>): DockerMount {
  return {
    type: (m['type'] as MountType | undefined) ?? 'volume',
    source: typeof m['source'] === 'string' ? m['source'] : '',
    target: String(m['target']),
    readonly: m['readonly'] === true,
  };
}

function checkLabels(v: unknown, path: string, errors: string[]): void {
  const maps = objectsOrNull(v);
  if (maps === null) {
    errors.push(`${path}: must be a map of strings`);
    return;
  }
  for (const m of maps) {
    for (const [k, val] of Object.entries(m)) {
      if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') {
        errors.push(`${path}.${k}: must be a string`);
      }
      if (k.startsWith(RESERVED_LABEL_PREFIX)) errors.push(`${path}.${k}: labels starting with "${RESERVED_LABEL_PREFIX}" are reserved for yurt`);
    }
  }
}

function flattenMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of objects(v)) for (const [k, val] of Object.entries(m)) out[k] = String(val);
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One object or a list of objects (HCL blocks); null for anything else. */
function objectsOrNull(v: unknown): Record<string, unknown>[] | null {
  if (isRecord(v)) return [v];
  if (Array.isArray(v) && v.every(isRecord)) return v;
  return null;
}

function objects(v: unknown): Record<string, unknown>[] {
  return objectsOrNull(v) ?? [];
}
