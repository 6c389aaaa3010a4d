/**
 * /v1/event/stream — Nomad's event stream: newline-delimited JSON, one line per Raft index
 * with the events that pass the subscriber's topics and namespace, and `{}` heartbeats while
 * idle so proxies and clients can tell a quiet stream from a dead one.
 */
import { YurtError } from '../../structs/errors.js';
import type { EventBroker, Subscription } from '../server/events/event-broker.js';
import { parseEventFilter } from '../server/events/event-filter.js';
import type { HandlerResult, RequestContext, Route } from './http-router.js';
import { namespaceOf } from './route-helpers.js';

/** Nomad's heartbeat period on the event stream. */
export const EVENT_HEARTBEAT_MS = 10_000;
/** A subscriber this far behind is cut off rather than buffered without end (Nomad drops slow subscribers too). */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;

export function eventRoutes(broker: () => EventBroker | null, heartbeatMs = EVENT_HEARTBEAT_MS): Route[] {
  return [{ method: 'GET', path: '/v1/event/stream', handler: (rc) => serveStream(broker(), rc, heartbeatMs) }];
}

function serveStream(broker: EventBroker | null, rc: RequestContext, heartbeatMs: number): HandlerResult {
  if (!broker) throw new YurtError('unavailable', 'this agent is not a server; point the request at a server');
  const rawIndex = rc.query.get('index') ?? '0';
  const from = Number(rawIndex);
  if (!/^\d+$/.test(rawIndex) || !Number.isSafeInteger(from)) throw new YurtError('invalid_argument', `Invalid index: ${rawIndex}`);
  const ns = rc.query.get('namespace') === '*' ? '*' : namespaceOf(rc);
  const filter = parseEventFilter(rc.query.getAll('topic'), ns);

  const res = rc.res;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-cache');
  res.flushHeaders();
  let lastWrite = Date.now();
  let sub: Subscription | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  const stop = (): void => {
    if (heartbeat) clearInterval(heartbeat);
    sub?.unsubscribe();
  };
  const write = (line: string): void => {
    if (res.destroyed) return;
    if (res.writableLength > MAX_PENDING_BYTES) {
      stop();
      res.destroy();
      return;
    }
    res.write(line);
    lastWrite = Date.now();
  };
  heartbeat = setInterval(() => {
    if (Date.now() - lastWrite >= heartbeatMs - 5) write('{}\n');
  }, heartbeatMs);
  sub = broker.subscribe(from, filter, write);
  if (res.destroyed) stop();
  rc.req.once('close', stop);
  res.once('close', stop);
  return { raw: true };
}
