/**
 * Task logs through the HTTP API when they outgrow `logs { max_file_size }`: the client rotates
 * them, and the logs endpoint still returns the whole output in order (archives, then the live
 * file), also for `origin=end` tails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AllocListStub } from '../structs/alloc.js';
import type { Job } from '../structs/job.js';
import { eventually, startAgent } from './testing/agent-process.js';

// 24 lines of ~100 kB, paced so the rotator (1 s period) runs several times while they are written.
const HCL = `
job "chatty" {
  type = "batch"
  group "g" {
    task "talk" {
      driver = "exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "i=0; while [ $i -lt 24 ]; do head -c 100000 /dev/zero | tr '\\\\0' x; echo \\" line-$i\\"; i=$((i+1)); sleep 0.15; done"]
      }
      logs {
        max_files     = 5
        max_file_size = 1
      }
      resources {
        memory = 64
      }
    }
  }
}
`;

void test('rotated task logs are served whole and in order', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'yurt-logs-'));
  const agent = await startAgent(['-dev', '-data-dir', dataDir]);
  try {
    const parsed = await fetch(`${agent.http}/v1/jobs/parse`, { method: 'POST', body: JSON.stringify({ JobHCL: HCL }) });
    assert.equal(parsed.status, 200, await parsed.clone().text());
    const job = (await parsed.json()) as Job;
    await fetch(`${agent.http}/v1/jobs`, { method: 'POST', body: JSON.stringify({ Job: job }) });
    const alloc = await eventually(async () => {
      const list = (await (await fetch(`${agent.http}/v1/job/chatty/allocations`)).json()) as AllocListStub[];
      return list.find((a) => a.ClientStatus === 'complete');
    }, 60_000, 'chatty complete');
    const logsDir = join(dataDir, 'client', 'alloc', alloc.ID, 'alloc', 'logs');
    const files = readdirSync(logsDir).filter((f) => f.startsWith('talk.stdout.'));
    assert.ok(files.length >= 2, `the log was rotated (files: ${files.join(', ')})`);

    const whole = await (await fetch(`${agent.http}/v1/client/fs/logs/${alloc.ID}?task=talk&type=stdout&plain=true`)).text();
    const markers = [...whole.matchAll(/ line-(\d+)\n/g)].map((m) => Number(m[1]));
    assert.deepEqual(markers, Array.from({ length: 24 }, (_, i) => i), 'every line, in order');

    const tail = await (await fetch(`${agent.http}/v1/client/fs/logs/${alloc.ID}?task=talk&type=stdout&plain=true&origin=end&offset=20`)).text();
    assert.equal(tail, `${'x'.repeat(11)} line-23\n`, 'the last 20 bytes');
  } catch (e) {
    process.stderr.write(`agent output:\n${agent.output()}\n`);
    throw e;
  } finally {
    await agent.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
