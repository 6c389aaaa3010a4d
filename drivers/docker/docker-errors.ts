/**
 * Reading the errors the engine client (docker-modem) raises: an HTTP status and the
 * daemon's own message, or a socket error when the engine cannot be reached at all.
 */
import { YurtError, type ErrorCode } from '../../structs/errors.js';

/** The engine's HTTP status, or null when the request never got an answer. */
export function engineStatus(e: unknown): number | null {
  const s = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : null;
}

export function isNotFound(e: unknown): boolean {
  return engineStatus(e) === 404;
}

/** The daemon's message ("No such container: x"), without the client's "(HTTP code 404) ..." wrapping. */
export function engineMessage(e: unknown): string {
  const json = (e as { json?: unknown } | null)?.json;
  if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message.trim();
  }
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  if (Buffer.isBuffer(json) && json.length > 0) return json.toString('utf8').trim();
  return e instanceof Error ? e.message.trim() : String(e);
}

/** An engine failure as a typed error: "<doing>: <daemon's message>". */
export function engineError(doing: string, e: unknown, code?: ErrorCode): YurtError {
  if (e instanceof YurtError) return e;
  const status = engineStatus(e);
  const fallback: ErrorCode = status === null ? 'unavailable' : status === 404 ? 'not_found' : status === 409 ? 'conflict' : status < 500 ? 'invalid_argument' : 'internal';
  return new YurtError(code ?? fallback, `${doing}: ${engineMessage(e)}`, { cause: e });
}
