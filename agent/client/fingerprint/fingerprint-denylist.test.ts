import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeResources } from '../../../structs/resources.js';
import { driverAllowed } from '../client.js';
import { allowedDevices, applyFingerprintDenylist, optionList } from './fingerprint-denylist.js';

const resources: NodeResources = {
  Cpu: { CpuShares: 1000, TotalCpuCores: 1, ReservableCpuCores: [0] },
  Memory: { MemoryMB: 1024 },
  Disk: { DiskMB: 1024 },
  Networks: [{ Mode: 'host', Device: 'lo', CIDR: '127.0.0.1/32', IP: '127.0.0.1', MBits: 1000, ReservedPorts: [], DynamicPorts: [] }],
  Devices: [],
  MinDynamicPort: 20000,
  MaxDynamicPort: 32000,
};

void describe('client options: driver and fingerprint lists', () => {
  void it('splits Nomad\'s comma-separated lists', () => {
    assert.deepEqual(optionList(' docker, ,exec '), ['docker', 'exec']);
    assert.deepEqual(optionList(undefined), []);
  });

  void it('an allowlist admits only its drivers; the denylist wins over it', () => {
    assert.equal(driverAllowed('exec', [], []), true);
    assert.equal(driverAllowed('docker', ['exec', 'docker'], ['docker']), false);
    assert.equal(driverAllowed('wasi', ['exec'], []), false);
    assert.equal(driverAllowed('exec', ['exec'], []), true);
  });

  void it('a denied fingerprinter\'s attributes and resources are dropped; device fingerprinters are skipped', () => {
    const attrs = { 'unique.network.ip-address': '127.0.0.1', 'unique.storage.volume': '/dev/sda1', 'kernel.name': 'linux', 'cpu.arch': 'amd64' };
    const out = applyFingerprintDenylist(attrs, resources, ['network', 'storage', 'no-such-fingerprinter']);
    assert.deepEqual(out.attributes, { 'kernel.name': 'linux', 'cpu.arch': 'amd64' });
    assert.deepEqual(out.resources.Networks, []);
    assert.equal(resources.Networks.length, 1, 'the input is not modified');
    const gpu = { name: 'nvidia-gpu', fingerprint: () => Promise.resolve({ devices: [], attributes: {} }) };
    assert.deepEqual(allowedDevices([gpu], ['nvidia']), []);
    assert.deepEqual(allowedDevices([gpu], ['nvidia-gpu']), []);
    assert.deepEqual(allowedDevices([gpu], ['cpu']), [gpu]);
  });
});
