/**
 * Turning failed requests into typed errors. The server answers a failed request with a
 * non-2xx status, a plain-text message (as Nomad does) and `X-Yurt-Error-Code` carrying the
 * structs/errors.ts code; a request that never got an answer becomes an `unavailable` error
 * worded like Go's net/http client, which is what Nomad users know from the Nomad CLI:
 *   Get "http://127.0.0.1:4646/v1/jobs": dial tcp 127.0.0.1:4646: connect: connection refused
 */
import { YurtError, isErrorCode } from '../structs/errors.js';
import type { ErrorCode } from '../structs/errors.js';

export const ERROR_CODE_HEADER = 'X-Yurt-Error-Code';

/** The code a status implies when the server did not name one (e.g. a proxy answered). */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'invalid_argument';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 503:
      return 'unavailable';
    case 504:
      return 'timeout';
    default:
      return status >= 400 && status < 500 ? 'invalid_argument' : 'internal';
  }
}

export function errorFromResponse(status: number, headerCode: string | null, body: string): YurtError {
  const code = isErrorCode(headerCode) ? headerCode : codeForStatus(status);
  const text = body.trim();
  const message = text !== '' ? text : `Unexpected response code: ${status}`;
  return new YurtError(code, message, { details: { status } });
}

/** Go's method spelling in client errors: `Get`, `Post`, `Delete`. */
function goMethod(method: string): string {
  const m = method.toLowerCase();
  return m.charAt(0).toUpperCase() + m.slice(1);
}

interface SysErrorLike {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  message?: unknown;
  errors?: unknown;
}

function hostPort(address: unknown, port: unknown): string {
  const a = typeof address === 'string' ? address : '';
  const host = a.includes(':') ? `[${a}]` : a;
  return typeof port === 'number' ? `${host}:${port}` : host;
}

/** The part after `Get "url": `, in Go's words where there is a Go equivalent. */
function describeCause(cause: unknown): string {
  if (typeof cause !== 'object' || cause === null) return String(cause);
  let c = cause as SysErrorLike;
  // Happy-eyeballs connects (several addresses for one name) fail with an AggregateError
  // whose first member names an address.
  if (Array.isArray(c.errors) && c.errors.length > 0 && typeof c.errors[0] === 'object' && c.errors[0] !== null) {
    c = { ...(c.errors[0] as SysErrorLike), code: c.code ?? (c.errors[0] as SysErrorLike).code };
  }
  const at = hostPort(c.address, c.port);
  const dial = at !== '' ? `dial tcp ${at}` : 'dial tcp';
  switch (c.code) {
    case 'ECONNREFUSED':
      return `${dial}: connect: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${typeof c.hostname === 'string' ? c.hostname : 'host'}: no such host`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `${dial}: i/o timeout`;
    case 'EHOSTUNREACH':
      return `${dial}: connect: no route to host`;
    case 'ENETUNREACH':
      return `${dial}: connect: network is unreachable`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset by peer';
    default:
      if (typeof c.message === 'string' && c.message !== '') return c.message;
      return typeof c.code === 'string' ? c.code : 'unknown error';
  }
}

/** A request that got no HTTP answer at all (refused, unresolvable, reset, ...). */
export function transportError(method: string, url: string, err: unknown): YurtError {
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
  const detail = describeCause(cause);
  return new YurtError('unavailable', `${goMethod(method)} "${url}": ${detail}`, { cause: err });
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}
