import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testTask } from '../../scheduler/testing/fixtures.js';
import { taskResources } from './task-runner.js';

void test("a group network's ports reach every task's driver (docker's ports = [\"http\"])", () => {
  const task = testTask({ Name: 'web' });
  const r = taskResources(
    {
      Tasks: { web: { Cpu: { CpuShares: 100, ReservedCores: [] }, Memory: { MemoryMB: 64, MemoryMaxMB: 0 }, Networks: [], Devices: [] } },
      Shared: { DiskMB: 0, Networks: [], Ports: [{ Label: 'http', Value: 24999, To: 8080, HostIP: '198.18.0.5' }] },
    },
    task,
  );
  assert.equal(r.Cpu.CpuShares, 100);
  assert.deepEqual(r.Networks.flatMap((n) => n.DynamicPorts), [{ Label: 'http', Value: 24999, To: 8080, HostNetwork: 'default' }]);
  assert.equal(r.Networks[0]?.IP, '198.18.0.5');
  // No group network: the task's own resources, unchanged.
  const plain = taskResources({ Tasks: {}, Shared: { DiskMB: 0, Networks: [], Ports: [] } }, task);
  assert.deepEqual(plain.Networks, []);
  assert.equal(plain.Memory.MemoryMB, task.Resources.MemoryMB);
});
