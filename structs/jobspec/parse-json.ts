/**
 * Jobs in Nomad's API JSON: the body of `POST /v1/jobs` (`{"Job": {...}}`) or a bare job
 * object, as `nomad job run -json` and Nomad's API clients send them. Since yurt's Job is
 * that JSON shape (structs/job.ts), parsing is checking, canonicalizing and validating.
 */
import type { Job } from '../job.js';
import type { FieldError } from '../errors.js';
import { ValidationError, YurtError } from '../errors.js';
import type { JobInput } from '../job-defaults.js';
import { canonicalizeJob } from '../job-defaults.js';
import { assertValidJob } from '../job-validate.js';
import { checkShape, JOB_SHAPE } from './api-json-shape.js';

/**
 * Accepts parsed JSON (or its text). Throws ValidationError listing every field problem,
 * or YurtError('parse_error') for text that is not JSON.
 */
export function parseJobJSON(body: unknown): Job {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as unknown;
    } catch (e) {
      throw new YurtError('parse_error', `invalid JSON: ${(e as Error).message}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('job', [{ path: 'Job', message: 'a job must be a JSON object' }]);
  }
  // A Job has no "Job" field, so its presence means the register request envelope.
  const envelope = value as Record<string, unknown>;
  const raw = 'Job' in envelope ? envelope['Job'] : envelope;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ValidationError('job', [{ path: 'Job', message: 'a job must be a JSON object' }]);
  }

  const errors: FieldError[] = [];
  const input = checkShape(raw, JOB_SHAPE, '', errors) as JobInput;
  const id = (raw as Record<string, unknown>)['ID'];
  const what = typeof id === 'string' && id !== '' ? `job ${JSON.stringify(id)}` : 'job';
  if (errors.length > 0) throw new ValidationError(what, errors);

  const job = canonicalizeJob(input);
  assertValidJob(job, what);
  return job;
}

/** The register request body for a job: `{"Job": {...}}`. */
export function jobToApiJSON(job: Job): { Job: Job } {
  return { Job: job };
}
