/**
 * NVIDIA GPUs as node devices, the way Nomad's nvidia device plugin reports them: one group
 * `nvidia/gpu/<model>` per GPU model, one instance per GPU addressed by its UUID (what
 * NVIDIA_VISIBLE_DEVICES takes), and the plugin's attribute names and units (memory in MiB,
 * power in W, clocks in MHz; developer.hashicorp.com/nomad/plugins/devices/nvidia).
 *
 * Two sources, because neither alone has everything: systeminformation's graphics() (it runs
 * `lspci -vvv`, keeps VGA/3D/display controllers, then merges `nvidia-smi --query-gpu=...`
 * rows by PCI bus id) gives the controllers with their memory, power and clocks but no UUID or
 * index; a second `nvidia-smi --query-gpu=index,uuid,...` gives those, and also the memory, power
 * and driver, because graphics() runs nvidia-smi with the environment systeminformation copied
 * when it was first loaded (its execOptsWin.env), so its numbers can come from a stale PATH and
 * it cannot be pointed at another nvidia-smi. A GPU nvidia-smi lists
 * but lspci does not still counts (containers often hide lspci); lspci alone (no driver) does not:
 * without a UUID a GPU cannot be handed to a task.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { graphics as siGraphics, type Systeminformation } from 'systeminformation';
import type { NodeDeviceInstance, NodeDeviceResource } from '../../../structs/resources.js';
import type { DeviceFingerprint, DeviceFingerprinter } from './device-fingerprinter.js';

const execFileP = promisify(execFile);

/** The per-GPU identity query; order matters, `parseIdentityCsv` reads the columns by position. */
export const IDENTITY_QUERY_FIELDS = [
  'index', 'uuid', 'pci.bus_id', 'name', 'driver_version', 'memory.total', 'power.limit',
  'display_active', 'persistence_mode', 'clocks.max.graphics', 'clocks.max.memory',
] as const;

export interface GpuIdentity {
  index: number;
  uuid: string;
  /** As nvidia-smi prints it: `00000000:18:00.0`. */
  pciBusId: string;
  name: string;
  driverVersion: string | undefined;
  memoryTotalMiB: number | undefined;
  powerLimitW: number | undefined;
  displayActive: string | undefined;
  persistenceMode: string | undefined;
  maxGraphicsClockMHz: number | undefined;
  maxMemoryClockMHz: number | undefined;
}

/** nvidia-smi prints `[N/A]` (or `N/A`, `[Not Supported]`) for what a board does not report. */
function present(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' || t.includes('N/A') || t.includes('Not Supported') ? undefined : t;
}

function num(v: string | undefined): number | undefined {
  const p = present(v);
  if (p === undefined) return undefined;
  const n = Number(p);
  return Number.isFinite(n) ? n : undefined;
}

/** Rows of `nvidia-smi --query-gpu=<IDENTITY_QUERY_FIELDS> --format=csv,noheader,nounits`. */
export function parseIdentityCsv(csv: string): GpuIdentity[] {
  const out: GpuIdentity[] = [];
  for (const line of csv.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split(', ');
    if (f.length !== IDENTITY_QUERY_FIELDS.length) continue;
    const index = num(f[0]);
    const uuid = present(f[1]);
    const bus = present(f[2]);
    if (index === undefined || uuid === undefined || bus === undefined) continue;
    out.push({
      index,
      uuid,
      pciBusId: bus,
      name: present(f[3]) ?? 'unknown',
      driverVersion: present(f[4]),
      memoryTotalMiB: num(f[5]),
      powerLimitW: num(f[6]),
      displayActive: present(f[7]),
      persistenceMode: present(f[8]),
      maxGraphicsClockMHz: num(f[9]),
      maxMemoryClockMHz: num(f[10]),
    });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** nvidia-smi's `00000000:18:00.0` and lspci's `18:00.0` name the same device. */
function sameBus(smi: string, lspci: string | undefined): boolean {
  return lspci !== undefined && lspci !== '' && smi.toLowerCase().endsWith(lspci.toLowerCase());
}

/** Builds the device groups from both sources; exported so the merge is testable on its own. */
export function buildNvidiaDevices(gpus: GpuIdentity[], controllers: Systeminformation.GraphicsControllerData[]): NodeDeviceResource[] {
  const groups = new Map<string, NodeDeviceResource>();
  for (const g of gpus) {
    const c = controllers.find((x) => sameBus(g.pciBusId, x.pciBus ?? x.busAddress));
    const attrs: Record<string, string> = {};
    // Our own query first: graphics() may have run an nvidia-smi from another PATH (see below),
    // and its lspci-only `vram` is the BAR aperture, not the GPU's memory.
    const memory = g.memoryTotalMiB ?? c?.memoryTotal;
    if (memory !== undefined) attrs['memory'] = `${memory} MiB`;
    const driver = g.driverVersion ?? c?.driverVersion;
    if (driver !== undefined) attrs['driver_version'] = driver;
    const power = g.powerLimitW ?? c?.powerLimit;
    if (power !== undefined) attrs['power'] = `${Math.round(power)} W`;
    if (g.maxGraphicsClockMHz !== undefined) attrs['cores_clock'] = `${g.maxGraphicsClockMHz} MHz`;
    else if (c?.clockCore !== undefined) attrs['cores_clock'] = `${c.clockCore} MHz`;
    if (g.maxMemoryClockMHz !== undefined) attrs['memory_clock'] = `${g.maxMemoryClockMHz} MHz`;
    else if (c?.clockMemory !== undefined) attrs['memory_clock'] = `${c.clockMemory} MHz`;
    if (g.displayActive !== undefined) attrs['display_state'] = g.displayActive;
    if (g.persistenceMode !== undefined) attrs['persistence_mode'] = g.persistenceMode;
    attrs['model'] = g.name;
    if (c?.model) attrs['pci_model'] = c.model;

    const instance: NodeDeviceInstance = { ID: g.uuid, Healthy: true, HealthDescription: '', Locality: { PciBusID: g.pciBusId } };
    const group = groups.get(g.name);
    if (group === undefined) {
      groups.set(g.name, { Vendor: 'nvidia', Type: 'gpu', Name: g.name, Instances: [instance], Attributes: attrs });
    } else {
      group.Instances.push(instance);
    }
  }
  return [...groups.values()];
}

export interface NvidiaGpuFingerprinterOptions {
  /** The nvidia-smi program. Default: `nvidia-smi` from PATH (as systeminformation runs it). */
  nvidiaSmi?: string;
  /** Nomad's `ignored_gpu_ids`: UUIDs never offered to jobs. */
  ignoredGpuIds?: string[];
  timeoutMs?: number;
}

export class NvidiaGpuFingerprinter implements DeviceFingerprinter {
  readonly name = 'nvidia-gpu';

  constructor(private readonly opts: NvidiaGpuFingerprinterOptions = {}) {}

  async fingerprint(): Promise<DeviceFingerprint> {
    const smi = this.opts.nvidiaSmi ?? 'nvidia-smi';
    const timeout = this.opts.timeoutMs ?? 10_000;
    const identity = await execFileP(smi, [`--query-gpu=${IDENTITY_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'], { timeout }).then(
      (r) => r.stdout,
      (err: NodeJS.ErrnoException) => {
        // No nvidia-smi means no NVIDIA driver: a host without GPUs, not an error.
        if (err.code === 'ENOENT') return '';
        throw new Error(`nvidia-smi failed: ${err.message.split('\n')[0] ?? ''}`);
      },
    );
    const ignored = new Set(this.opts.ignoredGpuIds ?? []);
    const gpus = parseIdentityCsv(identity).filter((g) => !ignored.has(g.uuid));
    if (gpus.length === 0) return { devices: [], attributes: {} };
    // lspci's view (PCI model, boards nvidia-smi merged onto); optional, many containers lack lspci.
    const gfx = await siGraphics().catch(() => ({ controllers: [] }));
    const controllers = gfx.controllers.filter((c) => /nvidia/i.test(c.vendor) || c.pciBus !== undefined);
    const devices = buildNvidiaDevices(gpus, controllers);
    const driverVersion = gpus.find((g) => g.driverVersion !== undefined)?.driverVersion ?? controllers.find((c) => c.driverVersion !== undefined)?.driverVersion;
    const attributes: Record<string, string> = {};
    if (driverVersion !== undefined) attributes['device.nvidia.driver.version'] = driverVersion;
    attributes['device.nvidia.gpu.count'] = String(gpus.length);
    return { devices, attributes };
  }

}
