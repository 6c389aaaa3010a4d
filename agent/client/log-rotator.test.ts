import assert from 'node:assert/strict';
import { mkdir, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { RawExecDriver } from '../../drivers/raw-exec/raw-exec-driver.js';
import type { Allocation } from '../../structs/alloc.js';
import { canonicalizeJob } from '../../structs/job-defaults.js';
import { AllocRunner } from './alloc-runner.js';
import { archiveIndexes, rotateIfNeeded } from './log-rotator.js';

const MiB = 1024 * 1024;
let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-logrot-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void describe('rotateIfNeeded', () => {
  void it('copy-truncates under an open append-mode writer and keeps at most MaxFiles files', async () => {
    const logs = join(dir, 'unit');
    await mkdir(logs);
    // Held open in append mode for the whole test, as every driver holds its log file.
    const w = await open(join(logs, 'web.stdout.0'), 'a');
    const log = { logsDir: logs, base: 'web.stdout', config: { MaxFiles: 3, MaxFileSizeMB: 1 } };
    try {
      assert.equal(await rotateIfNeeded(log), false, 'an empty log is not rotated');
      const chunks: string[] = [];
      for (let i = 0; i < 5; i++) {
        const chunk = String(i).repeat(MiB + 10);
        chunks.push(chunk);
        await w.write(chunk);
        assert.equal(await rotateIfNeeded(log), true, `rotation ${i}`);
        // The writer keeps going at the start of the truncated file, not at its old offset.
        await w.write(`tail-${i}\n`);
        assert.equal(await readFile(join(logs, 'web.stdout.0'), 'utf8'), `tail-${i}\n`);
        await w.truncate(0);
      }
      // 5 rotations, MaxFiles 3: the live file plus the two newest archives.
      assert.deepEqual(await archiveIndexes(logs, 'web.stdout'), [4, 5]);
      assert.deepEqual((await readdir(logs)).sort(), ['web.stdout.0', 'web.stdout.4', 'web.stdout.5']);
      assert.equal(await readFile(join(logs, 'web.stdout.5'), 'utf8'), chunks[4]);
      assert.equal(await readFile(join(logs, 'web.stdout.4'), 'utf8'), chunks[3]);
    } finally {
      await w.close();
    }
  });

  void it('ignores other tasks and streams and a missing file', async () => {
    const logs = join(dir, 'other');
    await mkdir(logs);
    const w = await open(join(logs, 'web.stderr.0'), 'a');
    await w.write('x'.repeat(2 * MiB));
    await w.close();
    assert.equal(await rotateIfNeeded({ logsDir: logs, base: 'web.stdout', config: { MaxFiles: 2, MaxFileSizeMB: 1 } }), false);
    assert.deepEqual(await readdir(logs), ['web.stderr.0']);
  });
});

void describe('AllocRunner log rotation', () => {
  void it('rotates a real raw_exec task output while it runs', async () => {
    const job = canonicalizeJob({
      ID: 'chatty',
      Type: 'batch',
      TaskGroups: [
        {
          Name: 'g',
          Tasks: [
            {
              Name: 'talk',
              Driver: 'raw_exec',
              // 6 bursts of ~600 KiB with pauses, so the 1 MiB limit is crossed while it runs.
              Config: { command: '/bin/sh', args: ['-c', 'i=0; while [ $i -lt 6 ]; do head -c 614400 /dev/zero | tr "\\0" "a"; echo; sleep 0.3; i=$((i+1)); done'] },
              LogConfig: { MaxFiles: 10, MaxFileSizeMB: 1 },
            },
          ],
        },
      ],
    });
    const alloc = {
      ID: 'a10c0000-0000-4000-8000-000000000002',
      Namespace: 'default',
      Name: 'chatty.g[0]',
      JobID: 'chatty',
      Job: job,
      TaskGroup: 'g',
      AllocatedResources: { Tasks: {}, Shared: { DiskMB: 0, Networks: [], Ports: [] } },
      DesiredStatus: 'run',
      ClientStatus: 'pending',
      TaskStates: {},
    } as unknown as Allocation;
    const runner = new AllocRunner(alloc, {
      allocsRoot: join(dir, 'allocs'),
      drivers: new Map([['raw_exec', new RawExecDriver({ enabled: true })]]),
      logger: pino({ level: 'silent' }),
      node: () => ({ id: 'n', name: 'n', region: 'global', datacenter: 'dc1', nodeClass: '', nodePool: 'default', attributes: {}, meta: {} }),
      onUpdate: () => undefined,
      persist: () => Promise.resolve(),
      logRotateIntervalMs: 50,
    });
    runner.run();
    await runner.wait();
    assert.equal(runner.clientStatus(), 'complete');
    const archives = await archiveIndexes(runner.dir.logsDir, 'talk.stdout');
    assert.ok(archives.length >= 2, `expected rotations, got archives ${JSON.stringify(archives)}`);
    let total = 0;
    for (const i of [...archives, 0]) {
      const size = (await readFile(runner.dir.logPath('talk', 'stdout', i))).length;
      if (i !== 0) assert.ok(size > MiB, `archive .${i} holds more than the limit's worth (${size})`);
      total += size;
    }
    // Copy-truncate can drop what the task writes between the copy and the truncate, so a
    // rotation in the middle of a burst may cost a little; never more than the output, never
    // more than a sliver (the unit test above shows nothing is lost while the writer is idle).
    const expected = 6 * (614400 + 1);
    assert.ok(total <= expected && total >= expected * 0.9, `kept ${total} of ${expected} bytes`);
  });
});
