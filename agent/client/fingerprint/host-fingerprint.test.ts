import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isIPv4 } from 'node:net';
import { cpu as siCpu } from 'systeminformation';
import { parseCpuinfo } from './cpu-info.js';
import { defaultRouteInterface, goArch, fingerprintHost } from './host-fingerprint.js';
import { parseOsRelease } from './os-release.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-fp-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ATTRIBUTES = [
  'cpu.arch', 'cpu.numcores', 'cpu.modelname', 'cpu.frequency', 'cpu.totalcompute',
  'memory.totalbytes', 'kernel.name', 'kernel.version', 'kernel.arch', 'os.name', 'os.version',
  'unique.hostname', 'unique.network.ip-address', 'unique.storage.volume',
  'unique.storage.bytestotal', 'unique.storage.bytesfree', 'yurt.version',
];

void describe('fingerprintHost', () => {
  void it('reports the Nomad attribute set with sane values, quickly', async () => {
    const fp = await fingerprintHost({ dataDir: join(dir, 'not-created-yet') });
    const a = fp.attributes;
    for (const k of ATTRIBUTES) assert.ok(a[k] !== undefined && a[k] !== '', `attribute ${k} missing`);
    assert.equal(Object.keys(a).some((k) => k.startsWith('attr.')), false);
    assert.equal(a['cpu.numcores'], String(cpus().length));
    assert.ok(Number(a['cpu.frequency']) > 0);
    assert.equal(Number(a['cpu.totalcompute']), Number(a['cpu.numcores']) * Number(a['cpu.frequency']));
    assert.equal(a['memory.totalbytes'], String(totalmem()));
    assert.equal(a['kernel.name'], process.platform);
    assert.equal(a['cpu.arch'], goArch());
    assert.equal(a['unique.hostname'], hostname());
    assert.ok(isIPv4(a['unique.network.ip-address'] ?? ''));
    assert.ok(Number(a['unique.storage.bytesfree']) <= Number(a['unique.storage.bytestotal']));
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(a['yurt.version'], pkg.version);
    const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => null);
    if (osRelease !== null) assert.equal(a['os.name'], parseOsRelease(osRelease).id);
    if (process.platform === 'linux' && process.getuid?.() === 0) {
      assert.match(a['os.cgroups.version'] ?? '', /^[12]$/);
      assert.equal(a['unique.cgroup.version'], `v${a['os.cgroups.version']}`);
    }

    const r = fp.resources;
    assert.equal(r.Cpu.CpuShares, Number(a['cpu.totalcompute']));
    assert.equal(r.Cpu.TotalCpuCores, cpus().length);
    assert.deepEqual(r.Cpu.ReservableCpuCores, cpus().map((_, i) => i));
    assert.equal(r.Memory.MemoryMB, Math.floor(totalmem() / 1024 / 1024));
    // Free space moves while the test runs; allow 64 MB of drift.
    assert.ok(Math.abs(r.Disk.DiskMB - Number(a['unique.storage.bytesfree']) / 1024 / 1024) < 64);
    assert.deepEqual([r.MinDynamicPort, r.MaxDynamicPort], [20000, 32000]);
    assert.deepEqual(r.Devices, []);
    assert.equal(r.Networks[0]?.IP, a['unique.network.ip-address']);
    assert.ok(fp.durationMs < 2000, `fingerprint took ${fp.durationMs} ms`);
    console.log(`host fingerprint: ${fp.durationMs.toFixed(1)} ms`);
  });

  void it('falls back to /proc/cpuinfo for the clock and reads the model name there', async () => {
    const path = join(dir, 'cpuinfo');
    await writeFile(path, 'processor\t: 0\nmodel name\t: Test CPU @ 1.2GHz\ncpu MHz\t\t: 1200.400\n\nprocessor\t: 1\nmodel name\t: Test CPU @ 1.2GHz\ncpu MHz\t\t: 1300.600\n');
    const fp = await fingerprintHost({ dataDir: dir, procCpuinfoPath: path });
    assert.equal(fp.attributes['cpu.modelname'], 'Test CPU @ 1.2GHz');
    const siSpeed = (await siCpu()).speed;
    if (siSpeed === 0) {
      // As on this project's VMs: systeminformation has no clock, cpuinfo's mean is used.
      assert.equal(fp.attributes['cpu.frequency'], '1251');
    } else {
      assert.equal(fp.attributes['cpu.frequency'], String(Math.round(siSpeed * 1000)));
    }
  });

  void it('honours cpu_total_compute and the dynamic port range', async () => {
    const fp = await fingerprintHost({ dataDir: dir, cpuTotalCompute: 12345, minDynamicPort: 21000, maxDynamicPort: 22000 });
    assert.equal(fp.attributes['cpu.totalcompute'], '12345');
    assert.equal(fp.resources.Cpu.CpuShares, 12345);
    assert.deepEqual([fp.resources.MinDynamicPort, fp.resources.MaxDynamicPort], [21000, 22000]);
  });

  void it('merges device fingerprinters; a failing one only costs its devices', async () => {
    const gpu = {
      Vendor: 'nvidia', Type: 'gpu', Name: 'Test GPU',
      Instances: [{ ID: 'GPU-1', Healthy: true, HealthDescription: '' }],
      Attributes: { memory: '1024 MiB' },
    };
    const fp = await fingerprintHost({
      dataDir: dir,
      devices: [
        { name: 'fake-gpu', fingerprint: async () => ({ devices: [gpu], attributes: { 'device.test': '1' } }) },
        { name: 'broken', fingerprint: async () => { throw new Error('no driver'); } },
      ],
    });
    assert.deepEqual(fp.resources.Devices, [gpu]);
    assert.equal(fp.attributes['device.test'], '1');
    assert.deepEqual(fp.warnings.filter((w) => w.includes('broken')), ['device fingerprinter broken: no driver']);
  });
});

void describe('fingerprint parsers', () => {
  void it('parses cpuinfo without clock lines (ARM style)', () => {
    assert.deepEqual(parseCpuinfo('processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\n'), { modelName: null, mhz: null, processors: 2 });
  });

  void it('parses os-release with and without quotes', () => {
    assert.deepEqual(parseOsRelease('NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="22.04"\n'), { id: 'ubuntu', versionId: '22.04' });
  });

  void it('finds the default route with the lowest metric in /proc/net/route', () => {
    const table = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    ].join('\n');
    assert.equal(defaultRouteInterface(table), 'eth0');
    assert.equal(defaultRouteInterface(table.split('\n').slice(0, 1).join('\n')), null);
  });

  void it('maps Node architectures to Go names', () => {
    assert.equal(goArch('x64'), 'amd64');
    assert.equal(goArch('arm64'), 'arm64');
    assert.equal(goArch('ia32'), '386');
    assert.equal(goArch('ppc64', true), 'ppc64le');
  });
});
