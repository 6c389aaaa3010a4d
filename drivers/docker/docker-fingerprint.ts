/**
 * What the docker driver reports about the engine: detected and healthy with the engine's
 * version when it answers within the timeout, undetected with the reason when its socket
 * is missing or silent. Attribute names are Nomad's (`driver.docker.version`, ...), so
 * constraints written for Nomad clients select yurt clients the same way.
 */
import { stat } from 'node:fs/promises';
import type Dockerode from 'dockerode';
import type { DriverFingerprint } from '../driver.js';
import { engineMessage } from './docker-errors.js';

export interface FingerprintOptions {
  socketPath: string;
  timeoutMs: number;
  allowPrivileged: boolean;
  volumesEnabled: boolean;
}

function undetected(why: string): DriverFingerprint {
  return { detected: false, healthy: false, healthDescription: why, attributes: {} };
}

/** The calls used here; the engine client accepts an abort signal on each, its typings do not say so. */
interface EngineQueries {
  version(opts: { abortSignal: AbortSignal }): Promise<Dockerode.DockerVersion>;
  info(opts: { abortSignal: AbortSignal }): Promise<{ Runtimes?: Record<string, unknown> }>;
}
interface NetworkQueries {
  inspect(opts: { abortSignal: AbortSignal }): Promise<Dockerode.NetworkInspectInfo>;
}

export async function fingerprintEngine(docker: Dockerode, o: FingerprintOptions): Promise<DriverFingerprint> {
  const engine = docker as unknown as EngineQueries;
  // A missing socket is the common case (no Docker on this host): say so without a request.
  const st = await stat(o.socketPath).catch(() => null);
  if (st === null) return undetected(`Docker engine socket ${o.socketPath} not found`);
  if (!st.isSocket()) return undetected(`${o.socketPath} is not a socket`);

  const signal = AbortSignal.timeout(o.timeoutMs);
  let version: Dockerode.DockerVersion;
  try {
    version = await engine.version({ abortSignal: signal });
  } catch (e) {
    const why = signal.aborted ? `no answer within ${o.timeoutMs} ms` : engineMessage(e);
    return undetected(`failed to connect to the Docker engine at ${o.socketPath}: ${why}`);
  }
  const attributes: Record<string, string> = {
    'driver.docker': '1',
    'driver.docker.version': version.Version,
    'driver.docker.api_version': version.ApiVersion,
    'driver.docker.os_type': version.Os,
  };
  if (o.allowPrivileged) attributes['driver.docker.privileged.enabled'] = '1';
  if (o.volumesEnabled) attributes['driver.docker.volumes.enabled'] = '1';
  // Extras; the engine having answered /version is what makes the driver healthy.
  const [info, bridge] = await Promise.all([
    engine.info({ abortSignal: signal }).catch(() => null),
    (docker.getNetwork('bridge') as unknown as NetworkQueries).inspect({ abortSignal: signal }).catch(() => null),
  ]);
  if (info?.Runtimes !== undefined) attributes['driver.docker.runtimes'] = Object.keys(info.Runtimes).sort().join(',');
  const gateway = bridge?.IPAM?.Config?.[0]?.Gateway;
  if (gateway !== undefined && gateway !== '') attributes['driver.docker.bridge_ip'] = gateway;
  return { detected: true, healthy: true, healthDescription: 'Healthy', attributes };
}
