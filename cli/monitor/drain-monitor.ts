/**
 * Follows a node drain until the node has no drain strategy left and its allocations have
 * stopped, printing each change (see drain-state.ts). Blocks on the node's allocations with
 * a short wait, because the end of a drain changes the node, not its allocations.
 */
import type { ApiClient } from '../../api/client.js';
import { formatTime } from '../format/time.js';
import { paceBlockingQuery } from './blocking.js';
import { allStopped, drainChangeLines, drainView } from './drain-state.js';
import type { DrainView } from './drain-state.js';

const DRAIN_WAIT_MS = 5_000;

export async function monitorDrain(
  client: ApiClient,
  nodeId: string,
  out: (line: string) => void,
  opts: { ignoreSystem: boolean; now: () => number; signal?: AbortSignal | undefined; waitMs?: number },
): Promise<void> {
  const say = (msg: string): void => out(`${formatTime(opts.now())}: ${msg}`);
  const signal = opts.signal !== undefined ? { signal: opts.signal } : {};
  let prev: DrainView | null = null;
  let index = 0;
  for (;;) {
    const started = Date.now();
    const allocs = await client.nodes.allocations(nodeId, { index, waitMs: opts.waitMs ?? DRAIN_WAIT_MS, ...signal });
    const node = (await client.nodes.info(nodeId, signal)).data;
    const next = drainView(node.DrainStrategy !== null && node.DrainStrategy !== undefined, allocs.data ?? []);
    for (const line of drainChangeLines(nodeId, prev, next, opts.ignoreSystem)) say(line);
    if (!next.draining && allStopped(next, opts.ignoreSystem)) return;
    prev = next;
    await paceBlockingQuery(index, allocs.index, started, Date.now(), opts.signal);
    index = Math.max(index, allocs.index);
  }
}
