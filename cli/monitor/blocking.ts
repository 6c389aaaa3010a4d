/**
 * One step of a blocking-query loop. The server holds `?index=N&wait=D` until something
 * changes; if an answer comes back at once with no newer index (a server or proxy that
 * does not block), pause before asking again so a watcher never spins.
 */
export const DEFAULT_WAIT_MS = 30_000;
const MIN_GAP_MS = 1000;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Call after each answer; waits only when the answer did not block and did not advance. */
export async function paceBlockingQuery(
  prevIndex: number,
  newIndex: number,
  startedMs: number,
  nowMs: number,
  signal?: AbortSignal,
): Promise<void> {
  if (prevIndex > 0 && newIndex <= prevIndex && nowMs - startedMs < MIN_GAP_MS) {
    await sleep(MIN_GAP_MS - (nowMs - startedMs), signal);
  }
}
