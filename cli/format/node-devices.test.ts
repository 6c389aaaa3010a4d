import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NOW_MS, node } from '../testdata/fixtures.js';
import { formatDeviceAttributes, formatNodeDetail } from './node-view.js';

const gpuNode = (): ReturnType<typeof node> => {
  const n = node();
  n.NodeResources.Devices = [
    {
      Vendor: 'nvidia', Type: 'gpu', Name: 'NVIDIA H100 80GB HBM3',
      Instances: [{ ID: 'GPU-1', Healthy: true, HealthDescription: '' }],
      Attributes: { memory: '81559 MiB', driver_version: '550.54.15' },
    },
    { Vendor: 'acme', Type: 'fpga', Name: 'bare', Instances: [], Attributes: {} },
  ];
  return n;
};

void test('node status -verbose shows each device group with its sorted attributes, as Nomad', () => {
  assert.equal(
    formatDeviceAttributes(gpuNode()),
    'Device Group   = nvidia/gpu/NVIDIA H100 80GB HBM3\ndriver_version = 550.54.15\nmemory         = 81559 MiB',
  );
  assert.equal(formatDeviceAttributes(node()), '');
  const out = formatNodeDetail(gpuNode(), [], { verbose: true, nowMs: NOW_MS });
  assert.match(out, /\nAttributes\n[\s\S]*\n\nDevice Group Attributes\nDevice Group += nvidia\/gpu\/NVIDIA H100 80GB HBM3\n[\s\S]*\n\nMeta\n/);
  assert.doesNotMatch(formatNodeDetail(gpuNode(), [], { verbose: false, nowMs: NOW_MS }), /Device Group/);
});
