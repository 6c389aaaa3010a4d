/**
 * structs/jobspec: Nomad job specifications in, canonical validated `Job`s out.
 *
 * - `parseJobHCL(src, { filename, vars, varFiles, env })`: a job file in HCL2, with
 *   variables; errors name file:line,col.
 * - `parseJobJSON(body)`: Nomad API JSON, `{"Job": {...}}` or a bare job.
 * - `jobToApiJSON(job)`: the register request body for a job.
 * - `EXAMPLE_JOB`, `EXAMPLE_JOB_SHORT`: what `yurt job init` writes.
 *
 * Like the rest of structs/ it imports nothing of the project outside structs/.
 */
export { parseJobHCL } from './parse-hcl.js';
export type { ParseJobHCLOptions } from './parse-hcl.js';
export { parseJobJSON, jobToApiJSON } from './parse-json.js';
export { EXAMPLE_JOB, EXAMPLE_JOB_SHORT } from './example-job.js';
export { VAR_ENV_PREFIX } from './variables.js';
export type { VariableInputs } from './variables.js';
