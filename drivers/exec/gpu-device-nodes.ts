/**
 * The device nodes an exec task needs for the NVIDIA GPUs the scheduler assigned it. The task's
 * root (chroot.ts) holds only a handful of device nodes, so CUDA inside it finds no GPU at all;
 * binding every /dev/nvidia* would hand it its neighbours' GPUs too. It gets the driver's shared
 * control nodes and, per assigned GPU, the /dev/nvidiaN whose minor number the driver reports
 * for that GPU's UUID (/proc/driver/nvidia/gpus/<pci>/information), so the others are not there
 * to open. Nomad's exec does not expose GPUs at all; its nvidia plugin only sets variables.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { YurtError } from '../../structs/errors.js';

/** The driver's nodes every CUDA process opens, whichever GPUs it uses (those present are bound). */
export const NVIDIA_CONTROL_NODES = ['nvidiactl', 'nvidia-uvm', 'nvidia-uvm-tools', 'nvidia-modeset'];

export interface NvidiaDevicePaths {
  /** The driver's per-GPU information files (default /proc/driver/nvidia/gpus). */
  procGpus?: string;
  /** Where the device nodes are (default /dev). */
  dev?: string;
}

/** GPU UUID → device minor, from the driver's per-GPU `information` files. */
export async function nvidiaMinors(procGpus: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const entries = await readdir(procGpus).catch(() => [] as string[]);
  for (const e of entries) {
    const text = await readFile(join(procGpus, e, 'information'), 'utf8').catch(() => '');
    const uuid = /^GPU UUID:\s*(\S+)/m.exec(text)?.[1];
    const minor = /^Device Minor:\s*(\d+)/m.exec(text)?.[1];
    if (uuid !== undefined && minor !== undefined) out.set(uuid, Number(minor));
  }
  return out;
}

/** Host paths of the device nodes for the GPUs `uuids`; none when no GPU was assigned. */
export async function nvidiaDeviceNodes(uuids: readonly string[], paths: NvidiaDevicePaths = {}): Promise<string[]> {
  if (uuids.length === 0) return [];
  const dev = paths.dev ?? '/dev';
  const minors = await nvidiaMinors(paths.procGpus ?? '/proc/driver/nvidia/gpus');
  const nodes: string[] = [];
  for (const name of NVIDIA_CONTROL_NODES) {
    const p = join(dev, name);
    if (await exists(p)) nodes.push(p);
  }
  for (const uuid of uuids) {
    const minor = minors.get(uuid);
    if (minor === undefined) {
      throw new YurtError('unavailable', `GPU ${uuid} was assigned to the task, but the NVIDIA driver on this host does not list it`);
    }
    const p = join(dev, `nvidia${minor}`);
    if (!(await exists(p))) throw new YurtError('unavailable', `GPU ${uuid} was assigned to the task, but its device node ${p} does not exist`);
    nodes.push(p);
  }
  return nodes;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
