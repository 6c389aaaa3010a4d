/** Test support: a complete Allocation around a canonical job, as a server would push it. */
import type { Allocation } from '../../../structs/alloc.js';
import { canonicalizeJob, type JobInput } from '../../../structs/job-defaults.js';
import { testAlloc } from '../../../scheduler/testing/fixtures.js';

export function testAllocation(job: JobInput, id: string, over: Partial<Allocation> = {}): Allocation {
  return testAlloc(canonicalizeJob(job), { ID: id, ...over });
}

/** A batch job with one raw_exec task running `sh -c script`. */
export function shellJob(id: string, script: string, task: Record<string, unknown> = {}): JobInput {
  return {
    ID: id,
    Type: 'batch',
    TaskGroups: [{ Name: 'g', Tasks: [{ Name: 'main', Driver: 'raw_exec', Config: { command: '/bin/sh', args: ['-c', script] }, ...task }] }],
  };
}
