import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { RawExecDriver } from '../../drivers/raw-exec/raw-exec-driver.js';
import type { Allocation } from '../../structs/alloc.js';
import { testAlloc as baseAlloc } from '../../scheduler/testing/fixtures.js';
import { canonicalizeJob } from '../../structs/job-defaults.js';
import type { Job } from '../../structs/job.js';
import { AllocRunner } from './alloc-runner.js';
import { buildTaskEnv, interpolate, interpolateTask, type TaskEnvNode } from './task-env.js';

const NODE: TaskEnvNode = {
  id: '9a1c7f4e-0000-4000-8000-000000000001',
  name: 'gpu-7',
  region: 'eu',
  datacenter: 'dc2',
  nodeClass: 'gpu',
  nodePool: 'ml',
  attributes: { 'kernel.name': 'linux', 'cpu.arch': 'amd64', 'device.nvidia.driver.version': '550.54.15' },
  meta: { rack: 'r12' },
};

function testJob(config: Record<string, unknown>, env: Record<string, string> = {}): Job {
  return canonicalizeJob({
    ID: 'train',
    Type: 'batch',
    Meta: { owner: 'ml-team', 'build-id': 'b1' },
    TaskGroups: [{ Name: 'workers', Meta: { owner: 'group-owner' }, Tasks: [{ Name: 'main', Driver: 'raw_exec', Config: config, Env: env, Meta: { stage: 'prod' } }] }],
  });
}

function testAlloc(job: Job, id = 'f00dcafe-1111-4222-8333-444455556666'): Allocation {
  return baseAlloc(job, {
    ID: id,
    EvalID: 'e1',
    Name: 'train.workers[3]',
    NodeID: NODE.id,
    NodeName: NODE.name,
    TaskGroup: 'workers',
    AllocatedResources: {
      Tasks: {},
      Shared: {
        DiskMB: 300,
        Networks: [],
        Ports: [
          { Label: 'http', Value: 23456, To: 8080, HostIP: '10.0.0.7' },
          { Label: 'metrics-port', Value: 23457, To: 0, HostIP: '10.0.0.7' },
        ],
      },
    },
  });
}

const DIRS = { allocDir: '/data/alloc/x/alloc', taskDir: '/data/alloc/x/main/local', secretsDir: '/data/alloc/x/main/secrets' };

void describe('buildTaskEnv', () => {
  void it('sets the NOMAD_* variables, ports and meta Nomad tasks expect', () => {
    const job = testJob({ command: '/bin/true' });
    const env = buildTaskEnv(testAlloc(job), job.TaskGroups[0]!.Tasks[0]!, DIRS, NODE);
    assert.equal(env['NOMAD_ALLOC_INDEX'], '3');
    assert.equal(env['NOMAD_ALLOC_NAME'], 'train.workers[3]');
    assert.equal(env['NOMAD_SHORT_ALLOC_ID'], 'f00dcafe');
    assert.equal(env['NOMAD_JOB_NAME'], 'train');
    assert.equal(env['NOMAD_GROUP_NAME'], 'workers');
    assert.equal(env['NOMAD_TASK_DIR'], DIRS.taskDir);
    assert.equal(env['NOMAD_ALLOC_DIR'], DIRS.allocDir);
    assert.equal(env['NOMAD_DC'], 'dc2');
    assert.equal(env['NOMAD_REGION'], 'eu');
    // A mapped port: the task listens on `to`, the world reaches it on the host port.
    assert.equal(env['NOMAD_PORT_http'], '8080');
    assert.equal(env['NOMAD_HOST_PORT_http'], '23456');
    assert.equal(env['NOMAD_IP_http'], '10.0.0.7');
    assert.equal(env['NOMAD_ADDR_http'], '10.0.0.7:23456');
    // Labels become valid variable names.
    assert.equal(env['NOMAD_PORT_metrics_port'], '23457');
    // Meta: the most specific level wins; keys as written and upper-cased.
    assert.equal(env['NOMAD_META_owner'], 'group-owner');
    assert.equal(env['NOMAD_META_OWNER'], 'group-owner');
    assert.equal(env['NOMAD_META_build_id'], 'b1');
    assert.equal(env['NOMAD_META_stage'], 'prod');
  });

  void it('interpolates the task env block against NOMAD_* and node values', () => {
    const job = testJob({ command: '/bin/true' }, { LISTEN: '${NOMAD_IP_http}:${NOMAD_PORT_http}', WHERE: '${node.datacenter}/${meta.rack}/${attr.cpu.arch}' });
    const env = buildTaskEnv(testAlloc(job), job.TaskGroups[0]!.Tasks[0]!, DIRS, NODE);
    assert.equal(env['LISTEN'], '10.0.0.7:8080');
    assert.equal(env['WHERE'], 'dc2/r12/amd64');
  });

  void it('hands a task exactly its assigned GPUs, by UUID, for CUDA and the container toolkit', () => {
    const job = testJob({ command: '/bin/true' });
    const task = job.TaskGroups[0]!.Tasks[0]!;
    const alloc = testAlloc(job);
    const gpus = ['GPU-5f3e0c11-aaaa-bbbb-cccc-000000000001', 'GPU-5f3e0c11-aaaa-bbbb-cccc-000000000003'];
    alloc.AllocatedResources.Tasks['main'] = {
      Cpu: { CpuShares: 100, ReservedCores: [] },
      Memory: { MemoryMB: 256, MemoryMaxMB: 0 },
      Networks: [],
      Devices: [
        { Vendor: 'nvidia', Type: 'gpu', Name: 'NVIDIA H100 80GB HBM3', DeviceIDs: gpus },
        { Vendor: 'acme', Type: 'fpga', Name: 'x1', DeviceIDs: ['fpga-0'] },
      ],
    };
    const env = buildTaskEnv(alloc, task, DIRS, NODE);
    assert.equal(env['NVIDIA_VISIBLE_DEVICES'], gpus.join(','));
    assert.equal(env['CUDA_VISIBLE_DEVICES'], gpus.join(','));
    // A task given no GPU is not told about any (nor hidden from them: Nomad leaves that alone).
    const other = buildTaskEnv(testAlloc(job), task, DIRS, NODE);
    assert.equal(other['NVIDIA_VISIBLE_DEVICES'], undefined);
    assert.equal(other['CUDA_VISIBLE_DEVICES'], undefined);
  });
});

void describe('interpolate', () => {
  const env = { NOMAD_ALLOC_ID: 'a-1', NOMAD_TASK_DIR: '/t/local', X: 'ex' };
  void it('resolves node, attribute, meta and env references', () => {
    assert.equal(interpolate('${node.unique.id}', env, NODE), NODE.id);
    assert.equal(interpolate('${node.unique.name} ${node.class} ${node.pool} ${node.region}', env, NODE), 'gpu-7 gpu ml eu');
    assert.equal(interpolate('${attr.device.nvidia.driver.version}', env, NODE), '550.54.15');
    assert.equal(interpolate('--id=${NOMAD_ALLOC_ID} --dir=${NOMAD_TASK_DIR}/bin', env, NODE), '--id=a-1 --dir=/t/local/bin');
    assert.equal(interpolate('${env["X"]}-${env.X}', env, NODE), 'ex-ex');
  });
  void it('leaves unknown references and escaped $${ alone', () => {
    assert.equal(interpolate('${attr.nope} ${meta.none} ${NOT_SET}', env, NODE), '${attr.nope} ${meta.none} ${NOT_SET}');
    assert.equal(interpolate('$${NOMAD_ALLOC_ID}', env, NODE), '${NOMAD_ALLOC_ID}');
    assert.equal(interpolate('no refs', env, NODE), 'no refs');
  });
  void it('reaches every string in a nested driver config', () => {
    const job = testJob({ command: '${NOMAD_TASK_DIR}/run', args: ['--rack', '${meta.rack}'], mounts: [{ source: '${NOMAD_ALLOC_DIR}/data', readonly: true }] });
    const task = job.TaskGroups[0]!.Tasks[0]!;
    const env = buildTaskEnv(testAlloc(job), task, DIRS, NODE);
    const out = interpolateTask(task, env, NODE);
    assert.deepEqual(out.Config, { command: `${DIRS.taskDir}/run`, args: ['--rack', 'r12'], mounts: [{ source: `${DIRS.allocDir}/data`, readonly: true }] });
    assert.equal(task.Config['command'], '${NOMAD_TASK_DIR}/run', 'the job itself is not modified');
  });
});

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-taskenv-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void describe('AllocRunner task environment', () => {
  void it('a real raw_exec task sees the variables and its interpolated args', async () => {
    const driver = new RawExecDriver({ enabled: true });
    // `${attr.kernel.name}` is not valid shell: it only works if the client interpolated it.
    const job = testJob({
      command: '/bin/sh',
      args: ['-c', 'echo "idx=$NOMAD_ALLOC_INDEX kernel=${attr.kernel.name} port=$NOMAD_PORT_http rack=${meta.rack} greet=$GREETING" > ${NOMAD_ALLOC_DIR}/data/out'],
    }, { GREETING: 'hello from ${node.unique.name}' });
    const alloc = testAlloc(job, 'a11c0000-0000-4000-8000-000000000001');
    const runner = new AllocRunner(alloc, {
      allocsRoot: dir,
      drivers: new Map([['raw_exec', driver]]),
      logger: pino({ level: 'silent' }),
      node: () => NODE,
      onUpdate: () => undefined,
      persist: () => Promise.resolve(),
    });
    runner.run();
    await runner.wait();
    assert.equal(runner.clientStatus(), 'complete', JSON.stringify(runner.taskStates()));
    const out = await readFile(join(runner.dir.sharedDir, 'data', 'out'), 'utf8');
    assert.equal(out.trim(), 'idx=3 kernel=linux port=8080 rack=r12 greet=hello from gpu-7');
  });

  void it('a raw_exec task inherits the agent environment beneath its own; a driver that does not pass it on gets none', async () => {
    /** raw_exec, reporting what an image-based driver reports. */
    class SealedRawExec extends RawExecDriver {
      override capabilities(): ReturnType<RawExecDriver['capabilities']> {
        return { ...super.capabilities(), hostEnv: false };
      }
    }
    const hostEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TOOLCHAIN: '/opt/agent-tools', NOMAD_ALLOC_INDEX: '99', GREETING: 'from the agent' };
    const script = 'echo "tool=$TOOLCHAIN idx=$NOMAD_ALLOC_INDEX greet=$GREETING" > ${NOMAD_ALLOC_DIR}/data/out';
    const outputOf = async (driverName: string, driver: RawExecDriver, id: string): Promise<string> => {
      const job = testJob({ command: '/bin/sh', args: ['-c', script] }, { GREETING: 'task says ${TOOLCHAIN}' });
      job.TaskGroups[0]!.Tasks[0]!.Driver = driverName;
      const runner = new AllocRunner(testAlloc(job, id), {
        allocsRoot: dir,
        drivers: new Map([[driverName, driver]]),
        logger: pino({ level: 'silent' }),
        node: () => NODE,
        onUpdate: () => undefined,
        persist: () => Promise.resolve(),
        hostEnv,
      });
      runner.run();
      await runner.wait();
      assert.equal(runner.clientStatus(), 'complete', JSON.stringify(runner.taskStates()));
      return (await readFile(join(runner.dir.sharedDir, 'data', 'out'), 'utf8')).trim();
    };
    // The agent's variable reaches the task and its env block's interpolation; the task's own
    // NOMAD_* and env block win over the agent's.
    assert.equal(await outputOf('raw_exec', new RawExecDriver({ enabled: true }), 'a11c0000-0000-4000-8000-000000000002'), 'tool=/opt/agent-tools idx=3 greet=task says /opt/agent-tools');
    assert.equal(await outputOf('sealed', new SealedRawExec({ enabled: true }), 'a11c0000-0000-4000-8000-000000000003'), 'tool= idx=3 greet=task says ${TOOLCHAIN}');
  });
});
