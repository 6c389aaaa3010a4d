/**
 * A small key/value state machine for tests, the linearizability harness and the
 * benchmark: commands are JSON `{"k": key, "v": value}` (a write); anything else is applied
 * as an opaque command that changes nothing. Volatile by design: `lastApplied()` is 0, so a
 * restarted server rebuilds it from its snapshot and log, which exercises exactly the paths
 * a real state machine relies on.
 */
import type { StateMachine } from '../raft-node.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeWrite(key: string, value: string, padTo = 0): Uint8Array {
  const json = JSON.stringify({ k: key, v: value });
  // Padding goes inside the JSON (trailing spaces) so the command keeps its meaning.
  return encoder.encode(json.length < padTo ? json + ' '.repeat(padTo - json.length) : json);
}

export class KvStateMachine implements StateMachine {
  private readonly data = new Map<string, string>();
  private last = 0;
  applies = 0;
  restores = 0;

  apply(e: { index: number; data: Uint8Array }): unknown {
    this.last = e.index;
    this.applies++;
    let cmd: unknown;
    try {
      cmd = JSON.parse(decoder.decode(e.data));
    } catch {
      return e.index;
    }
    const c = cmd as { k?: unknown; v?: unknown } | null;
    if (typeof c?.k === 'string' && typeof c.v === 'string') this.data.set(c.k, c.v);
    return e.index;
  }

  lastApplied(): number {
    return 0;
  }

  snapshot(): Promise<Uint8Array> {
    // Captured now; the bytes are what the state was after entry `last`.
    const bytes = encoder.encode(JSON.stringify({ index: this.last, entries: [...this.data] }));
    return Promise.resolve(bytes);
  }

  restore(data: Uint8Array, index: number): Promise<void> {
    const s = JSON.parse(decoder.decode(data)) as { index: number; entries: Array<[string, string]> };
    if (s.index !== index) return Promise.reject(new Error(`snapshot holds state ${s.index}, expected ${index}`));
    this.data.clear();
    for (const [k, v] of s.entries) this.data.set(k, v);
    this.last = index;
    this.restores++;
    return Promise.resolve();
  }

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  size(): number {
    return this.data.size;
  }

  appliedIndex(): number {
    return this.last;
  }
}
