/**
 * The host's CPU as cpu_hard_limit needs it (total MHz and core count). The client's own
 * fingerprint should be passed in (DockerDriverOptions.hostCpu) so both agree; this is the
 * fallback. `os.cpus()` reports speed 0 on VMs without cpufreq, so /proc/cpuinfo's
 * "cpu MHz" lines are read first.
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { HostCpu } from './container-options.js';

export async function detectHostCpu(cpuinfoPath = '/proc/cpuinfo'): Promise<HostCpu> {
  const text = await readFile(cpuinfoPath, 'utf8').catch(() => '');
  const mhz = [...text.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) => Number(m[1]));
  if (mhz.length > 0 && mhz.every((v) => v > 0)) {
    return { totalMHz: Math.round(mhz.reduce((a, b) => a + b, 0)), cores: mhz.length };
  }
  const list = cpus();
  const total = list.reduce((a, c) => a + c.speed, 0);
  // Unknown speed: a nominal 1000 MHz per core keeps the quota proportional to cores.
  return { totalMHz: total > 0 ? total : list.length * 1000, cores: Math.max(1, list.length) };
}
