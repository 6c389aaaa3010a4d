/**
 * The one mapping from the agent's configuration (the `client` stanza, its `options` map and
 * the agent-wide settings a client needs) to the Client's options, so agent.ts only supplies
 * what is known at run time: where the servers are, the advertised HTTP address, the logger.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { builtinDrivers, type BuiltinDriverOptions } from '../../drivers/registry.js';
import type { AgentConfig } from '../config/index.js';
import type { ClientOptions } from './client.js';
import { optionList } from './fingerprint/fingerprint-denylist.js';

export interface ClientRuntime {
  /** Server RPC addresses (the configured ones, or the local server's). */
  servers: string[];
  /** host:port other agents reach this agent's HTTP API at. */
  httpAddr: string;
  logger: Logger;
}

/** Nomad's client `options` take "true"/"1" for booleans. */
function isTrue(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

/** A list option under its current name, or the older name Nomad still accepts. */
function listOption(options: Record<string, string>, name: string, legacy: string): string[] {
  return optionList(options[name] ?? options[legacy]);
}

/** What the client stanza sets of the built-in drivers, for the node `nodeId` keeping its data in `dataDir`. */
export function driverOptionsFromConfig(c: AgentConfig, { nodeId, dataDir }: { nodeId: string; dataDir: string }): BuiltinDriverOptions {
  const cc = c.client;
  const o = cc.options;
  return {
    rawExecEnabled: c.devMode || isTrue(o['driver.raw_exec.enable']),
    // Empty means Nomad's default chroot_env, which the driver knows.
    ...(Object.keys(cc.chrootEnv).length > 0 ? { exec: { chrootEnv: { ...cc.chrootEnv } } } : {}),
    docker: { ownerId: nodeId, allowPrivileged: isTrue(o['docker.privileged.enabled']), volumesEnabled: isTrue(o['docker.volumes.enabled']) },
    wasi: { cacheDir: join(dataDir, 'wasi') },
  };
}

export function clientOptionsFromConfig(c: AgentConfig, rt: ClientRuntime): ClientOptions {
  const cc = c.client;
  const o = cc.options;
  const dos = cc.drainOnShutdown;
  return {
    dataDir: join(c.dataDir, 'client'),
    servers: rt.servers,
    region: c.region,
    datacenter: c.datacenter,
    name: c.name,
    nodeClass: cc.nodeClass,
    nodePool: cc.nodePool,
    meta: { ...cc.meta },
    reserved: { cpu: cc.reserved.cpu, memoryMB: cc.reserved.memory, diskMB: cc.reserved.disk },
    httpAddr: rt.httpAddr,
    drivers: (where) => builtinDrivers(driverOptionsFromConfig(c, where)),
    logger: rt.logger,
    gcIntervalMs: cc.gcIntervalMs,
    gcMaxAllocs: cc.gcMaxAllocs,
    maxKillTimeoutMs: cc.maxKillTimeoutMs,
    gcDiskUsageThreshold: cc.gcDiskUsageThreshold,
    ...(cc.networkInterface !== '' ? { networkInterface: cc.networkInterface } : {}),
    ...(cc.cpuTotalCompute > 0 ? { cpuTotalCompute: cc.cpuTotalCompute } : {}),
    ...(cc.memoryTotalMb > 0 ? { memoryTotalMb: cc.memoryTotalMb } : {}),
    hostVolumes: Object.fromEntries(Object.entries(cc.hostVolumes).map(([name, v]) => [name, { path: v.path, readOnly: v.readOnly }])),
    driverAllowlist: listOption(o, 'driver.allowlist', 'driver.whitelist'),
    driverDenylist: listOption(o, 'driver.denylist', 'driver.blacklist'),
    fingerprintDenylist: listOption(o, 'fingerprint.denylist', 'fingerprint.blacklist'),
    ...(o['env.denylist'] !== undefined || o['env.blacklist'] !== undefined ? { envDenylist: listOption(o, 'env.denylist', 'env.blacklist') } : {}),
    drainOnShutdown: dos.enabled ? { deadlineMs: dos.deadlineMs, force: dos.force, ignoreSystemJobs: dos.ignoreSystemJobs } : null,
  };
}
