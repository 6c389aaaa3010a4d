/**
 * Which events a subscriber wants: Nomad's `topic=Topic:key` parameters (repeatable; `Topic`
 * alone or `Topic:*` for every key, `*` for every topic) and the `namespace` parameter
 * (`*` for all; node events have no namespace and always pass it).
 */
import { YurtError } from '../../../structs/errors.js';
import type { StreamEvent } from './event-types.js';

/** Every topic Nomad defines; yurt publishes a subset, the others are accepted and stay quiet. */
const KNOWN_TOPICS = new Set([
  '*',
  'Job',
  'Allocation',
  'Evaluation',
  'Node',
  'NodePool',
  'Deployment',
  'Service',
  'Operator',
  'ACLToken',
  'ACLPolicy',
  'ACLRole',
  'CSIVolume',
  'CSIPlugin',
  'HostVolume',
]);

export interface EventFilter {
  /** Topic → keys wanted ('*' = all keys). A '*' topic matches every topic. */
  topics: ReadonlyMap<string, ReadonlySet<string>>;
  /** A namespace, or '*' for all. */
  namespace: string;
}

/** Builds a filter from the query's `topic` values; none means every topic, as in Nomad. */
export function parseEventFilter(topicParams: readonly string[], namespace: string): EventFilter {
  const topics = new Map<string, Set<string>>();
  const params = topicParams.length === 0 ? ['*'] : topicParams;
  for (const raw of params) {
    const sep = raw.indexOf(':');
    const topic = sep < 0 ? raw : raw.slice(0, sep);
    const key = sep < 0 ? '*' : raw.slice(sep + 1);
    if (!KNOWN_TOPICS.has(topic)) throw new YurtError('invalid_argument', `invalid topic ${JSON.stringify(raw)}: unknown topic "${topic}"`);
    if (key === '') throw new YurtError('invalid_argument', `invalid topic ${JSON.stringify(raw)}: empty key (use "${topic}:*" for every key)`);
    let keys = topics.get(topic);
    if (!keys) topics.set(topic, (keys = new Set()));
    keys.add(key);
  }
  return { topics, namespace };
}

export function eventMatches(e: StreamEvent, f: EventFilter): boolean {
  if (f.namespace !== '*' && e.Namespace !== '' && e.Namespace !== f.namespace) return false;
  return keysMatch(f.topics.get('*'), e) || keysMatch(f.topics.get(e.Topic), e);
}

function keysMatch(keys: ReadonlySet<string> | undefined, e: StreamEvent): boolean {
  if (!keys) return false;
  if (keys.has('*') || keys.has(e.Key)) return true;
  return e.FilterKeys.some((k) => keys.has(k));
}
