/**
 * Waiting for the cluster to reach a state. A condition returns the value it was waiting for,
 * or undefined/false to keep waiting; what it last saw (or threw) goes into the timeout error,
 * so a failure says what the cluster looked like instead of just "timed out".
 */
export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** An error the probe throws that ends the wait at once (the state cannot recover). */
  stopOn?: (e: unknown) => boolean;
}

export type Probe<T> = () => Promise<T | undefined | false | null>;

export class WaitTimeout extends Error {}

export async function waitUntil<T>(what: string, probe: Probe<T>, opts: WaitOptions, describe?: () => Promise<string> | string): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false && v !== null) return v;
      last = '';
    } catch (e) {
      if (opts.stopOn?.(e)) throw e;
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(opts.intervalMs ?? 500, Math.max(0, deadline - Date.now())));
  }
  let seen = '';
  if (describe) {
    try {
      seen = await describe();
    } catch (e) {
      seen = `(could not describe the state: ${e instanceof Error ? e.message : String(e)})`;
    }
  }
  throw new WaitTimeout(
    `timed out after ${(opts.timeoutMs / 1000).toFixed(0)}s waiting for ${what}` +
      `${last ? `\n  last error: ${last}` : ''}${seen ? `\n  last seen: ${seen}` : ''}`,
  );
}

/**
 * Checks that a condition holds for the whole of `forMs` (sampling every intervalMs): the
 * "never fewer than count-1 healthy" kind of assertion.
 */
export async function holdsFor(what: string, check: () => Promise<string | null>, forMs: number, intervalMs = 500): Promise<void> {
  const end = Date.now() + forMs;
  while (Date.now() < end) {
    const broken = await check();
    if (broken !== null) throw new Error(`${what} did not hold: ${broken}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
