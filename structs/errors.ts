/**
 * Typed errors. Every error a user can cause has a stable `code` (for the API and for
 * tests) and the HTTP status the API answers with. Errors cross the RPC wire as
 * `{ code, message, details }` and are rebuilt on the other side with `fromWire`.
 */

export type ErrorCode =
  | 'invalid_argument'
  | 'validation_failed'
  | 'parse_error'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'not_leader'
  | 'leadership_lost'
  | 'no_leader'
  | 'timeout'
  | 'unavailable'
  | 'permission_denied'
  | 'rate_limited'
  | 'corrupted'
  | 'internal';

const statusByCode: Record<ErrorCode, number> = {
  invalid_argument: 400,
  validation_failed: 400,
  parse_error: 400,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  not_leader: 503,
  leadership_lost: 503,
  no_leader: 500,
  timeout: 504,
  unavailable: 503,
  permission_denied: 403,
  // A caller sending faster than its connection's RPC rate limit (agent/rpc/rpc-rate-limit.ts).
  rate_limited: 429,
  corrupted: 500,
  internal: 500,
};

/** One problem with one field, e.g. `{ path: 'TaskGroups[0].Count', message: 'must be >= 0' }`. */
export interface FieldError {
  path: string;
  message: string;
  /** Source position when the value came from a file: "example.hcl:12,5". */
  pos?: string;
}

export interface WireError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class YurtError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'YurtError';
    this.code = code;
    this.details = opts?.details;
  }

  get httpStatus(): number {
    return statusByCode[this.code];
  }

  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** A job, config or request that failed validation: every field error at once. */
export class ValidationError extends YurtError {
  readonly errors: FieldError[];

  constructor(what: string, errors: FieldError[]) {
    super('validation_failed', formatValidation(what, errors), { details: { errors } });
    this.name = 'ValidationError';
    this.errors = errors;
  }
}

function formatValidation(what: string, errors: FieldError[]): string {
  const lines = errors.map((e) => `  * ${e.pos !== undefined ? `${e.pos}: ` : ''}${e.path}: ${e.message}`);
  const n = errors.length;
  return `${what}: ${n} error${n === 1 ? '' : 's'} occurred:\n${lines.join('\n')}`;
}

/** Raised by the leader-only paths of the server; carries where the leader is, if known. */
export class NotLeaderError extends YurtError {
  readonly leaderId: string | undefined;
  readonly leaderAddr: string | undefined;

  constructor(leaderId?: string, leaderAddr?: string) {
    super('not_leader', leaderAddr !== undefined ? `not the leader; leader is ${leaderAddr}` : 'not the leader; no leader known', {
      details: { leaderId, leaderAddr },
    });
    this.name = 'NotLeaderError';
    this.leaderId = leaderId;
    this.leaderAddr = leaderAddr;
  }
}

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && v in statusByCode;
}

/** Rebuild a typed error received over RPC or HTTP. */
export function fromWire(w: WireError): YurtError {
  if (w.code === 'not_leader') {
    const d = w.details ?? {};
    return new NotLeaderError(
      typeof d['leaderId'] === 'string' ? d['leaderId'] : undefined,
      typeof d['leaderAddr'] === 'string' ? d['leaderAddr'] : undefined,
    );
  }
  if (w.code === 'validation_failed' && Array.isArray(w.details?.['errors'])) {
    const err = new YurtError(w.code, w.message, { details: w.details });
    return err;
  }
  return new YurtError(isErrorCode(w.code) ? w.code : 'internal', w.message, w.details ? { details: w.details } : undefined);
}

/** Normalize anything thrown into a YurtError (unknown errors become `internal`). */
export function asYurtError(e: unknown): YurtError {
  if (e instanceof YurtError) return e;
  if (e instanceof Error) return new YurtError('internal', e.message, { cause: e });
  return new YurtError('internal', String(e));
}
