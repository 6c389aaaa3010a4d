/**
 * Single-server apply latency and throughput on this machine's disk (real LMDB, fsync per
 * Ready). Run: node --import tsx bench/raft/apply-latency.ts [commands=1000] [rounds=5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '../../consensus/core/messages.js';
import type { StateMachine, Transport } from '../../consensus/raft-node.js';
import { RaftNode } from '../../consensus/raft-node.js';

const commands = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);

class CountingFsm implements StateMachine {
  applied = 0;
  apply(e: { index: number }): unknown {
    this.applied = e.index;
    return e.index;
  }
  lastApplied(): number {
    return 0;
  }
  snapshot(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(0));
  }
  restore(): Promise<void> {
    return Promise.resolve();
  }
}

const nobody: Transport = { send() {}, onMessage(_h: (m: Message) => void) {}, close: () => Promise.resolve() };

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-raft-bench-'));
  const node = new RaftNode({ id: 'b1', address: 'b1:4647', dataDir: dir, bootstrap: [{ id: 'b1', address: 'b1:4647' }], transport: nobody, fsm: new CountingFsm() });
  try {
    await node.start();
    const payload = new Uint8Array(256).fill(7);

    const serial: number[] = [];
    for (let i = 0; i < commands; i++) {
      const t = performance.now();
      await node.apply(payload);
      serial.push(performance.now() - t);
    }
    serial.sort((a, b) => a - b);
    console.log(`serial applies (${commands}, 256 B): p50 ${fmt(pct(serial, 50))}  p99 ${fmt(pct(serial, 99))}  ${Math.round(commands / (serial.reduce((a, b) => a + b, 0) / 1000))}/s`);

    for (let r = 0; r < rounds; r++) {
      const lat: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: commands }, async () => {
          const t = performance.now();
          await node.apply(payload);
          lat.push(performance.now() - t);
        }),
      );
      const total = performance.now() - t0;
      lat.sort((a, b) => a - b);
      console.log(
        `concurrent ${commands} (round ${r + 1}): total ${fmt(total)}  ${Math.round(commands / (total / 1000))}/s  latency p50 ${fmt(pct(lat, 50))}  p99 ${fmt(pct(lat, 99))}`,
      );
    }
    console.log('stats', JSON.stringify(node.stats()));
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
