/**
 * Which of a Ready's committed entries the shell may apply while the Ready's own write is still
 * being committed (CoreDriver's Ready loop).
 */
import type { Entry, Ready } from './core/messages.js';

/**
 * `durable`: the committed entries below the Ready's new entries. Earlier Readies wrote them, so
 * they are on disk here. They may be applied at once, but only when nothing else waits on this
 * write: no votes or acks to send after it (a follower's ack would wait for the apply) and no
 * snapshot to install first. `rest`: the others, applied after the write, as usual.
 */
export function splitCommitted(rd: Ready): { durable: readonly Entry[]; rest: readonly Entry[] } {
  const committed = rd.committedEntries;
  if (committed.length === 0 || rd.messages.length > 0 || rd.snapshot !== undefined) return { durable: [], rest: committed };
  // Nothing is being written: nothing to overlap.
  if (rd.entries.length === 0 && rd.hardState === undefined) return { durable: [], rest: committed };
  const firstNew = rd.entries[0]?.index ?? Number.POSITIVE_INFINITY;
  let k = 0;
  while (k < committed.length && committed[k]!.index < firstNew) k++;
  return { durable: committed.slice(0, k), rest: committed.slice(k) };
}
