/**
 * A raft server process for tests and the benchmark: a RaftNode with durable LMDB, the
 * websocket transport (wrapped in the fault layer) and a key/value state machine, plus a
 * control channel (testing/control-protocol.ts) on a port of its own.
 *
 *   node --import tsx consensus/testdata/raft-server.ts '<json config>'
 *
 * Prints one JSON line on stdout: {"ready":true,"control":"127.0.0.1:PORT"} once the node
 * has started, or {"error":{...}} and exits with status 2 if it cannot start (e.g. a
 * corrupted store). SIGTERM stops it cleanly. Logs go to stderr as JSON lines when
 * RAFT_SERVER_LOG=1.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { RaftNode } from '../raft-node.js';
import type { RaftLogger } from '../raft-node.js';
import type { ControlRequest, ServerStatus } from '../testing/control-protocol.js';
import { packr } from '../testing/control-protocol.js';
import { encodeWrite, KvStateMachine } from '../testing/kv-state-machine.js';
import { FaultyTransport } from '../transport/faulty-transport.js';
import { WsTransport } from '../transport/ws-transport.js';
import { asYurtError } from '../../structs/errors.js';

interface Config {
  id: string;
  dataDir: string;
  raftAddress: string;
  bootstrap?: Array<{ id: string; address: string }>;
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  snapshotThreshold?: number;
  trailingLogs?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;

const logger: RaftLogger =
  process.env['RAFT_SERVER_LOG'] === '1'
    ? Object.fromEntries(
        (['debug', 'info', 'warn', 'error'] as const).map((level) => [
          level,
          (obj: object, msg: string) => {
            if (level !== 'debug') process.stderr.write(`${JSON.stringify({ t: Date.now(), level, id: config.id, msg, ...obj })}\n`);
          },
        ]),
      ) as unknown as RaftLogger
    : { debug() {}, info() {}, warn() {}, error() {} };

const wire = await WsTransport.listen({ id: config.id, address: config.raftAddress, logger, backoff: { minMs: 20, maxMs: 500 } });
const transport = new FaultyTransport(wire);
const fsm = new KvStateMachine();
const node = new RaftNode({
  id: config.id,
  address: config.raftAddress,
  dataDir: config.dataDir,
  ...(config.bootstrap !== undefined ? { bootstrap: config.bootstrap } : {}),
  transport,
  fsm,
  logger,
  ...(config.tickMs !== undefined ? { tickMs: config.tickMs } : {}),
  ...(config.electionTicks !== undefined ? { electionTicks: config.electionTicks } : {}),
  ...(config.heartbeatTicks !== undefined ? { heartbeatTicks: config.heartbeatTicks } : {}),
  ...(config.snapshotThreshold !== undefined ? { snapshotThreshold: config.snapshotThreshold } : {}),
  ...(config.trailingLogs !== undefined ? { trailingLogs: config.trailingLogs } : {}),
});

try {
  await node.start();
} catch (e) {
  const err = asYurtError(e);
  process.stdout.write(`${JSON.stringify({ error: { code: err.code, message: err.message } })}\n`);
  await wire.close();
  process.exit(2);
}

async function handle(req: ControlRequest): Promise<unknown> {
  switch (req.op) {
    case 'put': {
      const r = await node.apply(encodeWrite(req.key, req.value, req.padTo), req.timeoutMs);
      return { index: r.index };
    }
    case 'get': {
      const index = await node.readIndex(req.timeoutMs);
      return { index, value: fsm.get(req.key) ?? null };
    }
    case 'status': {
      const st = node.status();
      const s: ServerStatus = {
        id: st.id,
        role: st.role,
        term: st.term,
        leaderId: st.leaderId,
        commit: st.commit,
        applied: st.appliedIndex,
        firstIndex: st.firstIndex,
        lastIndex: st.lastIndex,
        lastSnapshotIndex: st.lastSnapshotIndex,
        servers: st.servers.map((x) => ({ id: x.id, address: x.address, suffrage: x.suffrage })),
        stats: { ...node.stats(), ...prefixed('transport', wire.stats()), ...prefixed('faults', transport.stats()) },
        keys: fsm.size(),
      };
      return s;
    }
    case 'faults':
      transport.setFaults(req.rules);
      return null;
    case 'addVoter':
      return node.addVoter(req.id, req.address);
    case 'addNonVoter':
      return node.addNonVoter(req.id, req.address);
    case 'remove':
      return node.removeServer(req.id);
    case 'transfer':
      return node.transferLeadership(req.to);
    case 'barrier':
      return node.barrier();
  }
}

function prefixed(prefix: string, o: object): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(o)) out[`${prefix}_${k}`] = Array.isArray(v) ? v.join(',') : (v as number);
  return out;
}

const http = createServer();
const control = new WebSocketServer({ server: http, path: '/control' });
control.on('connection', (ws: WebSocket) => {
  // Answers settled in the same turn of the event loop go back in one frame.
  let outbox: unknown[] = [];
  const reply = (r: unknown) => {
    outbox.push(r);
    if (outbox.length === 1) {
      queueMicrotask(() => {
        const batch = outbox;
        outbox = [];
        if (ws.readyState === WebSocket.OPEN) ws.send(packr.pack(batch));
      });
    }
  };
  ws.on('message', (data: WebSocket.RawData) => {
    for (const req of packr.unpack(data as Buffer) as Array<ControlRequest & { seq: number }>) {
      handle(req).then(
        (result) => reply({ seq: req.seq, ok: true, result: result ?? null }),
        (e: unknown) => reply({ seq: req.seq, ok: false, error: asYurtError(e).toWire() }),
      );
    }
  });
  ws.on('error', () => undefined);
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
process.stdout.write(`${JSON.stringify({ ready: true, control: `127.0.0.1:${(http.address() as AddressInfo).port}` })}\n`);

process.on('SIGTERM', () => {
  void (async () => {
    await node.stop();
    await transport.close();
    control.close();
    http.close();
    process.exit(0);
  })();
});
