import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { YurtError } from '../../structs/errors.js';
import { nvidiaDeviceNodes, nvidiaMinors } from './gpu-device-nodes.js';

// The driver's per-GPU files as an H100 host shows them (Device Minor is not the nvidia-smi index).
const info = (uuid: string, minor: number, bus: string) =>
  `Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 41\nGPU UUID: \t ${uuid}\nVideo BIOS: \t 96.00.da.00.0c\nBus Type: \t PCIe\nDMA Size: \t 52 bits\nBus Location: \t ${bus}\nDevice Minor: \t ${minor}\nGPU Excluded:\t No\n`;

let dir = '';
let procGpus = '';
let dev = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-gpu-nodes-'));
  procGpus = join(dir, 'gpus');
  dev = join(dir, 'dev');
  for (const [bus, uuid, minor] of [['0000:18:00.0', 'GPU-aaaa', 2], ['0000:3b:00.0', 'GPU-bbbb', 0]] as const) {
    await mkdir(join(procGpus, bus), { recursive: true });
    await writeFile(join(procGpus, bus, 'information'), info(uuid, minor, bus));
  }
  await mkdir(dev);
  for (const n of ['nvidiactl', 'nvidia-uvm', 'nvidia0', 'nvidia2']) await writeFile(join(dev, n), '');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void test("reads each GPU's device minor by UUID from the driver's information files", async () => {
  assert.deepEqual([...(await nvidiaMinors(procGpus))].sort(), [['GPU-aaaa', 2], ['GPU-bbbb', 0]]);
  assert.equal((await nvidiaMinors(join(dir, 'no-driver'))).size, 0);
});

void test('a task gets the control nodes present and the node of each of its GPUs, not the others', async () => {
  assert.deepEqual(await nvidiaDeviceNodes(['GPU-aaaa'], { procGpus, dev }), [join(dev, 'nvidiactl'), join(dev, 'nvidia-uvm'), join(dev, 'nvidia2')]);
  assert.deepEqual(await nvidiaDeviceNodes(['GPU-bbbb', 'GPU-aaaa'], { procGpus, dev }), [join(dev, 'nvidiactl'), join(dev, 'nvidia-uvm'), join(dev, 'nvidia0'), join(dev, 'nvidia2')]);
  assert.deepEqual(await nvidiaDeviceNodes([], { procGpus, dev }), []);
});

void test('a GPU the driver does not list fails the launch with a clear reason', async () => {
  await assert.rejects(nvidiaDeviceNodes(['GPU-gone'], { procGpus, dev }), (e: unknown) => e instanceof YurtError && e.code === 'unavailable' && e.message.includes('GPU-gone'));
});
