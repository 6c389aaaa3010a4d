import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Driver, DriverFingerprint } from '../../drivers/driver.js';
import { Client } from './client.js';
import type { DeviceFingerprinter } from './fingerprint/device-fingerprinter.js';
import { startRecordingServer } from './testing/recording-server.js';

/** A driver whose health the test flips; everything but fingerprint is unused here. */
function flippingDriver(state: { healthy: boolean }): Driver {
  const unused = (): never => {
    throw new Error('not used in this test');
  };
  return {
    name: 'flip',
    fingerprint: (): Promise<DriverFingerprint> =>
      Promise.resolve({
        detected: true,
        healthy: state.healthy,
        healthDescription: state.healthy ? 'Healthy' : 'daemon unreachable',
        attributes: { 'driver.flip.healthy': String(state.healthy) },
      }),
    capabilities: () => ({ sendSignals: false, exec: false, fsIsolation: 'none', hostEnv: false }),
    validateConfig: () => [],
    start: unused,
    wait: unused,
    stop: unused,
    destroy: () => Promise.resolve(),
    recover: () => Promise.resolve(false),
    signal: unused,
    inspect: () => Promise.resolve(null),
    stats: () => Promise.resolve(null),
  };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-client-fp-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void describe('Client periodic fingerprint', () => {
  void it('re-registers when a driver turns unhealthy and again when it recovers, and not otherwise', async () => {
    const srv = await startRecordingServer();
    const driverState = { healthy: true };
    const gpu = { memory: '81559 MiB' };
    const devices: DeviceFingerprinter[] = [
      {
        name: 'test-gpu',
        fingerprint: () =>
          Promise.resolve({
            devices: [{ Vendor: 'nvidia', Type: 'gpu', Name: 'NVIDIA H100 80GB HBM3', Instances: [{ ID: 'GPU-1', Healthy: true, HealthDescription: '' }], Attributes: { memory: gpu.memory } }],
            attributes: {},
          }),
      },
    ];
    const client = new Client({
      dataDir: join(dir, 'c1'),
      servers: [srv.addr],
      region: 'global',
      datacenter: 'dc1',
      name: 'n1',
      nodeClass: '',
      nodePool: 'default',
      meta: {},
      reserved: { cpu: 0, memoryMB: 0, diskMB: 0 },
      httpAddr: '127.0.0.1:0',
      drivers: () => [flippingDriver(driverState)],
      logger: pino({ level: 'silent' }),
      devices,
      fingerprintIntervalMs: 60,
    });
    try {
      await client.start();
      await client.waitRegistered(5000);
      assert.equal(srv.registrations.length, 1);
      assert.equal(srv.registrations[0]?.Drivers['flip']?.Healthy, true);
      assert.equal(srv.registrations[0]?.NodeResources.Devices[0]?.Attributes['memory'], '81559 MiB');

      // Several periodic fingerprints with nothing changed: no new registration.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(srv.registrations.length, 1, 'an unchanged fingerprint must not re-register');

      driverState.healthy = false;
      await until(() => srv.registrations.length >= 2, 3000, 're-registration after the driver turned unhealthy');
      const r2 = srv.registrations[1]!;
      assert.equal(r2.Drivers['flip']?.Healthy, false);
      assert.equal(r2.Drivers['flip']?.HealthDescription, 'daemon unreachable');
      assert.equal(r2.Attributes['driver.flip.healthy'], 'false');

      driverState.healthy = true;
      gpu.memory = '40960 MiB';
      // A fingerprint round already under way may report one change before the other: wait
      // for the registration that carries both.
      const recovered = (): boolean => {
        const r = srv.registrations.at(-1);
        return srv.registrations.length >= 3 && r?.Drivers['flip']?.Healthy === true && r.NodeResources.Devices[0]?.Attributes['memory'] === '40960 MiB';
      };
      await until(recovered, 3000, 're-registration after recovery');
      const r3 = srv.registrations.at(-1)!;
      assert.equal(r3.Drivers['flip']?.Healthy, true);
      assert.equal(r3.NodeResources.Devices[0]?.Attributes['memory'], '40960 MiB');
      assert.equal(client.currentNode()?.Drivers['flip']?.Healthy, true);
    } finally {
      await client.stop();
      await srv.close();
    }
  });
});
