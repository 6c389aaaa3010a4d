/**
 * Host fingerprinting: the node attributes (Nomad's names, without the `attr.` prefix) and
 * the NodeResources a client registers with. Sources: systeminformation for CPU, memory,
 * mounts and the default route; /proc/cpuinfo for the clock when systeminformation reads 0
 * (VMs without cpufreq); os-release for the distribution; statfs for the data dir's disk.
 *
 * Every probe runs in parallel and the slow systeminformation calls (networkInterfaces,
 * osInfo: 40-70 ms each, they run several programs) are avoided. Measured here: ~25 ms,
 * plus ~25 ms for loading systeminformation the first time.
 */
import { readFile, realpath, statfs } from 'node:fs/promises';
import { arch, cpus, endianness, hostname, machine, networkInterfaces, platform, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { cpu as siCpu, fsSize as siFsSize, mem as siMem, networkInterfaceDefault as siDefaultIface } from 'systeminformation';
import { detectCgroups } from '../../../drivers/exec/cgroup-host.js';
import {
  DEFAULT_MAX_DYNAMIC_PORT,
  DEFAULT_MIN_DYNAMIC_PORT,
  type NetworkResource,
  type NodeDeviceResource,
  type NodeResources,
} from '../../../structs/resources.js';
import { YURT_VERSION } from '../../version.js';
import { readCpuinfo } from './cpu-info.js';
import type { DeviceFingerprinter } from './device-fingerprinter.js';
import { readOsRelease } from './os-release.js';

export interface HostFingerprintOptions {
  /** The agent's data dir: its volume is the node's disk. Default: the working directory. */
  dataDir?: string;
  /** For tests and odd hosts. Default /proc/cpuinfo. */
  procCpuinfoPath?: string;
  /** os-release files to try. Default /etc/os-release, /usr/lib/os-release. */
  osReleasePaths?: string[];
  /** Nomad's `network_interface`: the interface whose address the node advertises. Default: the default route's. */
  networkInterface?: string;
  /** Nomad's `cpu_total_compute`: overrides the detected MHz total. */
  cpuTotalCompute?: number;
  minDynamicPort?: number;
  maxDynamicPort?: number;
  /** Device plugins (GPUs) to run alongside. */
  devices?: DeviceFingerprinter[];
  /** Directory with this process's mountinfo and cgroup files. Default /proc/self. */
  procSelf?: string;
}

export interface HostFingerprint {
  /** Node attributes, Nomad's names without `attr.`: `cpu.arch`, `kernel.name`, ... */
  attributes: Record<string, string>;
  resources: NodeResources;
  /** Problems that cost some attributes or devices but not the fingerprint, for the log. */
  warnings: string[];
  durationMs: number;
}

const MiB = 1024 * 1024;
/** Nomad assumes this link speed when the interface does not report one. */
const DEFAULT_MBITS = 1000;
/** Per-core MHz assumed when neither systeminformation nor /proc/cpuinfo knows the clock. */
const FALLBACK_MHZ = 1000;

/** Node's process.arch in Go's GOARCH spelling, which Nomad's `cpu.arch` uses ("amd64"). */
export function goArch(nodeArch: string = arch(), littleEndian = endianness() === 'LE'): string {
  switch (nodeArch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'ppc64':
      return littleEndian ? 'ppc64le' : 'ppc64';
    default:
      // arm, arm64, riscv64, s390x, loong64, mips...: the same word in both.
      return nodeArch;
  }
}

async function settle<T>(what: string, p: Promise<T>, warnings: string[]): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    warnings.push(`${what}: ${(e as Error).message}`);
    return null;
  }
}

/** The deepest existing directory at or above `p` (the data dir may not exist yet). */
async function existingAncestor(p: string): Promise<string> {
  for (let dir = p; ; dir = dirname(dir)) {
    try {
      return await realpath(dir);
    } catch {
      if (dirname(dir) === dir) return dir;
    }
  }
}

function addressOf(iface: string | null, warnings: string[]): { device: string; ip: string } | null {
  const all = networkInterfaces();
  const v4 = (name: string) => (all[name] ?? []).find((a) => a.family === 'IPv4');
  if (iface !== null) {
    const a = v4(iface);
    if (a !== undefined) return { device: iface, ip: a.address };
    warnings.push(`network interface ${iface} has no IPv4 address`);
  }
  for (const [name, addrs] of Object.entries(all)) {
    const a = (addrs ?? []).find((x) => x.family === 'IPv4' && !x.internal);
    if (a !== undefined) return { device: name, ip: a.address };
  }
  for (const [name, addrs] of Object.entries(all)) {
    const a = (addrs ?? []).find((x) => x.family === 'IPv4');
    if (a !== undefined) return { device: name, ip: a.address };
  }
  return null;
}

/**
 * The interface of the IPv4 default route (lowest metric) from /proc/net/route: the same
 * answer as systeminformation's networkInterfaceDefault, without its `ip route` process
 * (which measured 4-110 ms here). Null when there is no such file or route.
 */
export function defaultRouteInterface(routeTable: string): string | null {
  let best: { iface: string; metric: number } | null = null;
  for (const line of routeTable.split('\n').slice(1)) {
    const [iface, destination, , , , , metric, mask] = line.trim().split(/\s+/);
    if (iface === undefined || destination !== '00000000' || mask !== '00000000') continue;
    const m = Number(metric);
    if (best === null || m < best.metric) best = { iface, metric: m };
  }
  return best?.iface ?? null;
}

async function defaultInterface(warnings: string[]): Promise<string | null> {
  const table = await readFile('/proc/net/route', 'utf8').catch(() => null);
  if (table !== null) return defaultRouteInterface(table);
  return settle('default route', siDefaultIface(), warnings);
}

async function linkMbits(device: string): Promise<number> {
  const text = await readFile(`/sys/class/net/${device}/speed`, 'utf8').catch(() => '');
  const n = Number(text.trim());
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_MBITS;
}

export async function fingerprintHost(opts: HostFingerprintOptions = {}): Promise<HostFingerprint> {
  const t0 = performance.now();
  const warnings: string[] = [];
  const dataDir = await existingAncestor(opts.dataDir ?? process.cwd());
  const [cpu, mem, mounts, defaultIface, cpuinfo, osRel, disk, cgroups, devices] = await Promise.all([
    settle('systeminformation cpu', siCpu(), warnings),
    settle('systeminformation mem', siMem(), warnings),
    settle('systeminformation fsSize', siFsSize(), warnings),
    opts.networkInterface !== undefined ? Promise.resolve(opts.networkInterface) : defaultInterface(warnings),
    readCpuinfo(opts.procCpuinfoPath),
    readOsRelease(opts.osReleasePaths),
    settle(`statfs ${dataDir}`, statfs(dataDir), warnings),
    detectCgroups(opts.procSelf !== undefined ? { procSelf: opts.procSelf } : {}),
    Promise.all(
      (opts.devices ?? []).map((d) =>
        settle(`device fingerprinter ${d.name}`, d.fingerprint(), warnings),
      ),
    ),
  ]);

  const cores = cpu !== null && cpu.cores > 0 ? cpu.cores : cpus().length;
  // systeminformation gives GHz, and 0 where the kernel has no cpufreq data.
  const siMhz = cpu !== null && cpu.speed > 0 ? cpu.speed * 1000 : null;
  let mhz = Math.round(siMhz ?? cpuinfo.mhz ?? 0);
  if (mhz <= 0) {
    warnings.push(`cannot detect the CPU clock; assuming ${FALLBACK_MHZ} MHz per core (set cpu_total_compute to override)`);
    mhz = FALLBACK_MHZ;
  }
  const totalCompute = opts.cpuTotalCompute ?? cores * mhz;
  const modelName = cpuinfo.modelName ?? (cpu !== null ? `${cpu.manufacturer} ${cpu.brand}`.trim() : 'unknown');
  const memBytes = mem !== null && mem.total > 0 ? mem.total : totalmem();

  const attributes: Record<string, string> = {
    'cpu.arch': goArch(),
    'cpu.numcores': String(cores),
    'cpu.modelname': modelName,
    'cpu.frequency': String(mhz),
    'cpu.totalcompute': String(totalCompute),
    'memory.totalbytes': String(memBytes),
    'kernel.name': platform(),
    'kernel.version': release(),
    'kernel.arch': machine(),
    'os.name': osRel.id ?? platform(),
    'os.version': osRel.versionId ?? release(),
    'unique.hostname': hostname(),
    'yurt.version': YURT_VERSION,
  };

  const addr = addressOf(defaultIface, warnings);
  const networks: NetworkResource[] = [];
  if (addr !== null) {
    attributes['unique.network.ip-address'] = addr.ip;
    networks.push({
      Mode: 'host',
      Device: addr.device,
      CIDR: `${addr.ip}/32`,
      IP: addr.ip,
      MBits: await linkMbits(addr.device),
      ReservedPorts: [],
      DynamicPorts: [],
    });
  }

  let diskFreeBytes = 0;
  if (disk !== null) {
    diskFreeBytes = disk.bavail * disk.bsize;
    attributes['unique.storage.bytestotal'] = String(disk.blocks * disk.bsize);
    attributes['unique.storage.bytesfree'] = String(diskFreeBytes);
  }
  const volume = (mounts ?? [])
    .filter((m) => m.mount === '/' || dataDir === m.mount || dataDir.startsWith(`${m.mount}/`))
    .sort((a, b) => b.mount.length - a.mount.length)[0];
  if (volume !== undefined) attributes['unique.storage.volume'] = volume.fs;

  if (cgroups.host !== null) {
    attributes['os.cgroups.version'] = String(cgroups.host.version);
    // Nomad's own names for the same fact, for job files that constrain on them.
    attributes['unique.cgroup.version'] = `v${cgroups.host.version}`;
    attributes['unique.cgroup.mountpoint'] =
      cgroups.host.version === 2 ? cgroups.host.mountPoint : dirname(cgroups.host.mounts['memory'] ?? '/sys/fs/cgroup/memory');
  }

  const deviceGroups: NodeDeviceResource[] = [];
  for (const d of devices) {
    if (d === null) continue;
    deviceGroups.push(...d.devices);
    Object.assign(attributes, d.attributes);
  }

  const resources: NodeResources = {
    Cpu: { CpuShares: totalCompute, TotalCpuCores: cores, ReservableCpuCores: Array.from({ length: cores }, (_, i) => i) },
    Memory: { MemoryMB: Math.floor(memBytes / MiB) },
    Disk: { DiskMB: Math.floor(diskFreeBytes / MiB) },
    Networks: networks,
    Devices: deviceGroups,
    MinDynamicPort: opts.minDynamicPort ?? DEFAULT_MIN_DYNAMIC_PORT,
    MaxDynamicPort: opts.maxDynamicPort ?? DEFAULT_MAX_DYNAMIC_PORT,
  };
  return { attributes, resources, warnings, durationMs: performance.now() - t0 };
}
