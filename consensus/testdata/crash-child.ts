/**
 * Child process for the crash test in raft-node.test.ts: runs a single-server RaftNode on
 * the data dir given as argv[2] and applies numbered commands in concurrent batches,
 * printing "acked N" after each batch is committed and applied, until it is killed.
 */
import type { Message } from '../core/messages.js';
import { RaftNode } from '../raft-node.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: crash-child.ts DATA_DIR');

const node = new RaftNode({
  id: 's1',
  address: '127.0.0.1:4647',
  dataDir,
  bootstrap: [{ id: 's1', address: '127.0.0.1:4647' }],
  transport: { send() {}, onMessage(_h: (m: Message) => void) {}, close: () => Promise.resolve() },
  fsm: {
    apply: () => undefined,
    lastApplied: () => 0,
    snapshot: () => Promise.resolve(new Uint8Array(0)),
    restore: () => Promise.resolve(),
  },
  tickMs: 10,
  electionTicks: 10,
  heartbeatTicks: 2,
});
await node.start();
let next = 0;
for (;;) {
  const batch = Array.from({ length: 25 }, () => node.apply(new TextEncoder().encode(`cmd${next++}`)));
  await Promise.all(batch);
  process.stdout.write(`acked ${next}\n`);
}
