import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fingerprintHost } from './host-fingerprint.js';
import { NvidiaGpuFingerprinter, parseIdentityCsv } from './nvidia-gpu.js';

// Fake `lspci` and `nvidia-smi` for a host with 2 x NVIDIA H100 80GB HBM3 (plus a BMC display),
// in the real tools' output formats; systeminformation's graphics() runs both from PATH.
const FAKES = new URL('./testdata/nvidia-h100x2/', import.meta.url).pathname;
const UUID0 = 'GPU-5d0e4f3a-8b1c-2e7d-9f60-a1b2c3d4e5f6';
const UUID1 = 'GPU-a7c3e9d1-4f2b-6a80-1c5e-f0e1d2c3b4a5';

let dir = '';
let bin = '';
const savedPath = process.env['PATH'];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-gpu-'));
  bin = join(dir, 'bin');
  await mkdir(bin);
  for (const tool of ['lspci', 'nvidia-smi']) {
    await copyFile(join(FAKES, tool), join(bin, tool));
    await chmod(join(bin, tool), 0o755);
  }
});
afterEach(() => {
  process.env['PATH'] = savedPath;
  delete process.env['YURT_FAKE_GPU_MEMORY_TOTAL'];
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void describe('NvidiaGpuFingerprinter', () => {
  void it('turns 2 x H100 into one nvidia/gpu group with two UUID instances and Nomad attributes', async () => {
    process.env['PATH'] = `${bin}:${savedPath ?? ''}`;
    const fp = await fingerprintHost({ dataDir: dir, devices: [new NvidiaGpuFingerprinter()] });
    assert.deepEqual(fp.warnings.filter((w) => w.includes('nvidia')), []);
    const gpus = fp.resources.Devices.filter((d) => d.Vendor === 'nvidia');
    assert.equal(gpus.length, 1);
    const g = gpus[0]!;
    assert.equal(g.Type, 'gpu');
    assert.equal(g.Name, 'NVIDIA H100 80GB HBM3');
    assert.deepEqual(
      g.Instances.map((i) => [i.ID, i.Healthy, i.Locality?.PciBusID]),
      [
        [UUID0, true, '00000000:18:00.0'],
        [UUID1, true, '00000000:2A:00.0'],
      ],
    );
    assert.equal(g.Attributes['memory'], '81559 MiB');
    assert.equal(g.Attributes['driver_version'], '550.54.15');
    assert.equal(g.Attributes['power'], '700 W');
    assert.equal(g.Attributes['cores_clock'], '1980 MHz');
    assert.equal(g.Attributes['memory_clock'], '2619 MHz');
    assert.equal(g.Attributes['persistence_mode'], 'Enabled');
    assert.equal(g.Attributes['display_state'], 'Disabled');
    assert.equal(g.Attributes['model'], 'NVIDIA H100 80GB HBM3');
    assert.equal(g.Attributes['pci_model'], 'GH100 [H100 SXM5 80GB]');
    assert.equal(fp.attributes['device.nvidia.driver.version'], '550.54.15');
    assert.equal(fp.attributes['device.nvidia.gpu.count'], '2');
    // The BMC's ASPEED display controller is no schedulable device.
    assert.equal(fp.resources.Devices.length, 1);
  });

  void it('reads memory from nvidia-smi on every run (a re-fingerprint sees changes)', async () => {
    process.env['PATH'] = `${bin}:${savedPath ?? ''}`;
    process.env['YURT_FAKE_GPU_MEMORY_TOTAL'] = '40960';
    const fp = await new NvidiaGpuFingerprinter().fingerprint();
    assert.equal(fp.devices[0]?.Attributes['memory'], '40960 MiB');
  });

  void it('leaves out ignored GPU ids', async () => {
    process.env['PATH'] = `${bin}:${savedPath ?? ''}`;
    const fp = await new NvidiaGpuFingerprinter({ ignoredGpuIds: [UUID0] }).fingerprint();
    assert.deepEqual(fp.devices[0]?.Instances.map((i) => i.ID), [UUID1]);
    assert.equal(fp.attributes['device.nvidia.gpu.count'], '1');
  });

  void it('finds nothing, quietly, on a host without nvidia-smi', async () => {
    const empty = join(dir, 'empty-bin');
    await mkdir(empty, { recursive: true });
    const fp = await new NvidiaGpuFingerprinter({ nvidiaSmi: join(empty, 'nvidia-smi') }).fingerprint();
    assert.deepEqual(fp, { devices: [], attributes: {} });
  });

  void it('reports a broken driver as a warning and offers no GPUs', async () => {
    const broken = join(dir, 'broken-smi');
    // What nvidia-smi prints (exit 9) when the kernel module is not loaded.
    await writeFile(
      broken,
      "#!/bin/sh\necho \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\"\nexit 9\n",
    );
    await chmod(broken, 0o755);
    const fp = await fingerprintHost({ dataDir: dir, devices: [new NvidiaGpuFingerprinter({ nvidiaSmi: broken })] });
    assert.deepEqual(fp.resources.Devices, []);
    assert.ok(fp.warnings.some((w) => w.startsWith('device fingerprinter nvidia-gpu: nvidia-smi failed')), fp.warnings.join('; '));
  });
});

void describe('parseIdentityCsv', () => {
  void it('skips malformed rows and maps [N/A] to undefined', () => {
    const rows = parseIdentityCsv(
      [
        '1, GPU-b, 00000000:2A:00.0, NVIDIA H100 80GB HBM3, 550.54.15, 81559, [N/A], Disabled, [N/A], [N/A], 2619',
        'garbage',
        '0, GPU-a, 00000000:18:00.0, NVIDIA H100 80GB HBM3, 550.54.15, 81559, 700.00, Disabled, Enabled, 1980, 2619',
        '',
      ].join('\n'),
    );
    assert.deepEqual(rows.map((r) => r.uuid), ['GPU-a', 'GPU-b']);
    assert.equal(rows[1]?.persistenceMode, undefined);
    assert.equal(rows[1]?.maxGraphicsClockMHz, undefined);
    assert.equal(rows[1]?.maxMemoryClockMHz, 2619);
    assert.equal(rows[1]?.powerLimitW, undefined);
    assert.equal(rows[0]?.powerLimitW, 700);
    assert.equal(rows[0]?.memoryTotalMiB, 81559);
  });
});
