/**
 * 3. A WASI job runs and its output is in `yurt alloc logs`. The module (the wasi driver's test
 * probe) is downloaded by the client from the harness's artifact server, checksum verified.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../scenario.js';
import { allocLogs, describeJob, runJob } from '../scenario.js';
import { FAIL_FAST } from '../jobs.js';
import { waitUntil } from '../wait.js';

const PROBE = fileURLToPath(new URL('../../drivers/wasi/testdata/probe.wasm', import.meta.url));

export const wasiJob: Scenario = {
  id: 3,
  title: 'WASI job runs; output in alloc logs',
  async run(ctx) {
    const jobId = 'e2e-3-wasi';
    const { url, checksum } = ctx.artifacts.add('probe.wasm', await readFile(PROBE));
    await runJob(ctx, {
      id: jobId,
      type: 'batch',
      group: FAIL_FAST,
      task: {
        driver: 'wasi',
        // probe.wasm `args NAME...` prints its argv, then each named environment variable.
        config: `module = "local/probe.wasm"\nargs   = ["args", "E2E_WORD"]\nartifact {\n  source   = "${url}"\n  checksum = "${checksum}"\n}`,
        env: { E2E_WORD: 'wasm-word-from-env' },
        memoryMB: 64,
      },
    });
    const alloc = await waitUntil(
      `${jobId}'s allocation to complete`,
      async () => {
        const allocs = await ctx.cluster.api.jobAllocs(jobId);
        const failed = allocs.find((a) => a.ClientStatus === 'failed');
        if (failed) throw new Error(`allocation ${failed.ID} failed: ${await describeJob(ctx, jobId)}`);
        return allocs.find((a) => a.ClientStatus === 'complete');
      },
      { timeoutMs: 90_000 },
      () => describeJob(ctx, jobId),
    );
    const out = await allocLogs(ctx, alloc);
    assert.match(out, /E2E_WORD=wasm-word-from-env/, `\`yurt alloc logs\` shows what the module printed; got:\n${out}`);
    ctx.log(`module ran on ${alloc.NodeName}; its output came back through the CLI`);
  },
};
