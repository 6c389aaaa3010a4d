/**
 * What /proc/cpuinfo says about the CPUs: the model name and the clock. Read directly
 * because systeminformation reports speed 0 on VMs without cpufreq (see PLATFORM.md), while
 * the kernel's "cpu MHz" lines still carry the clock.
 */
import { readFile } from 'node:fs/promises';

export interface CpuInfo {
  modelName: string | null;
  /** Mean of the per-processor "cpu MHz" lines; null when there are none (e.g. most ARM). */
  mhz: number | null;
  processors: number;
}

export function parseCpuinfo(text: string): CpuInfo {
  let modelName: string | null = null;
  const mhz: number[] = [];
  let processors = 0;
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (key === 'processor') processors++;
    else if (key === 'model name' && modelName === null && value !== '') modelName = value;
    else if (key === 'cpu MHz') {
      const n = Number(value);
      if (Number.isFinite(n) && n > 0) mhz.push(n);
    }
  }
  return { modelName, mhz: mhz.length > 0 ? mhz.reduce((a, b) => a + b, 0) / mhz.length : null, processors };
}

export async function readCpuinfo(path = '/proc/cpuinfo'): Promise<CpuInfo> {
  try {
    return parseCpuinfo(await readFile(path, 'utf8'));
  } catch {
    return { modelName: null, mhz: null, processors: 0 };
  }
}
