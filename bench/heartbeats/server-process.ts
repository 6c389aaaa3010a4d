/**
 * The server side of the heartbeat benchmark, in its own process so its CPU and memory can be
 * measured alone: a real single server (Raft + LMDB state in a temp dir, websocket RPC and the
 * HTTP API on loopback). Prints one JSON line with its addresses, then runs until SIGTERM.
 */
import { startTestServer } from '../../agent/server/testing/test-server.js';

const maxHeartbeatsPerSecond = Number(process.env['BENCH_MAX_HB_PER_S'] ?? 250);

const ts = await startTestServer({
  raftTickMs: 50,
  numSchedulers: 1,
  heartbeat: { minHeartbeatTtlMs: 10_000, maxHeartbeatsPerSecond, heartbeatGraceMs: 10_000, failoverTtlMs: 300_000 },
});
process.stdout.write(`${JSON.stringify({ rpc: ts.rpcAddr, http: ts.httpUrl, pid: process.pid })}\n`);
process.once('SIGTERM', () => {
  ts.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
