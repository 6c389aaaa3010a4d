/**
 * Fuzzing the RPC port with fast-check (fixed seeds, bounded runs), against a real server
 * (Raft + FSM on LMDB, the real endpoints, the real RpcServer on loopback):
 *
 * - frames that are not requests (random bytes, other msgpack values, text frames, replies
 *   and pushes a client has no business sending) close that connection and nothing else;
 * - well-formed requests with odd methods or arguments are answered, with a result or an
 *   error, on a connection that stays open;
 * - through all of it the server keeps answering, and a job stored before is untouched.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';
import { testJob, testNode } from '../../scheduler/testing/fixtures.js';
import { startTestServer, type TestServer } from '../server/testing/test-server.js';
import { decodeFrame, MAX_FRAME_BYTES } from './rpc-protocol.js';
import { mutateAt } from '../../structs/testing/mutate-at.js';

const SEED = 20261122;
const HB = { minHeartbeatTtlMs: 5_000, heartbeatGraceMs: 5_000, maxHeartbeatsPerSecond: 50, failoverTtlMs: 10_000 };

let ts: TestServer;
let sentinelModifyIndex = 0;

before(async () => {
  ts = await startTestServer({ heartbeat: HB });
  const reply = await call(await open(), { t: 'req', id: 1, m: 'Job.Register', a: { Job: testJob({ ID: 'sentinel', Name: 'sentinel' }) } });
  assert.equal(reply.kind, 'reply');
  sentinelModifyIndex = ts.server.state.jobById('default', 'sentinel')?.JobModifyIndex ?? -1;
  assert.ok(sentinelModifyIndex > 0);
});
after(async () => {
  await ts.stop();
});

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${ts.rpcAddr}/`, { maxPayload: MAX_FRAME_BYTES * 2 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

type Outcome = { kind: 'reply'; frame: unknown } | { kind: 'closed'; code: number } | { kind: 'silent' };

/** Sends one raw frame and waits for a reply, the server closing the connection, or silence. */
function send(ws: WebSocket, data: Buffer | string, waitMs = 3_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish({ kind: 'silent' }), waitMs);
    const onMessage = (d: Buffer): void => finish({ kind: 'reply', frame: unpack(d) as unknown });
    const onClose = (code: number): void => finish({ kind: 'closed', code });
    function finish(o: Outcome): void {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(o);
    }
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', () => undefined);
    ws.send(data, { binary: typeof data !== 'string' });
  });
}

async function call(ws: WebSocket, frame: unknown): Promise<Outcome> {
  return send(ws, pack(frame));
}

async function assertServing(): Promise<void> {
  const ws = await open();
  try {
    const pong = await call(ws, { t: 'req', id: 7, m: 'Status.Ping', a: null });
    assert.deepEqual(pong, { kind: 'reply', frame: { t: 'res', id: 7, r: { ok: true } } });
  } finally {
    ws.terminate();
  }
  const health = await fetch(`${ts.httpUrl}/v1/status/leader`);
  assert.equal(health.status, 200);
  const job = ts.server.state.jobById('default', 'sentinel');
  assert.ok(job !== null && !job.Stop, 'the stored job is still there and running');
  assert.equal(job.JobModifyIndex, sentinelModifyIndex, 'the stored job is unchanged');
}

/** A frame that is not a request, in one of the ways a confused or hostile peer could send. */
const notARequest: fc.Arbitrary<{ data: Buffer | string; what: string }> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => ({ data: Buffer.from(b), what: 'random bytes' })),
  fc.jsonValue({ maxDepth: 3 }).map((v) => ({ data: pack(v), what: 'a msgpack value' })),
  fc.string({ maxLength: 40 }).map((s) => ({ data: s, what: 'a text frame' })),
  fc.record({ t: fc.constantFrom('res', 'err', 'push', 'REQ', '', 'req '), id: fc.oneof(fc.integer(), fc.string()), r: fc.jsonValue({ maxDepth: 2 }) }).map((f) => ({ data: pack(f), what: 'a reply or push' })),
  fc.record({ t: fc.constant('req'), id: fc.oneof(fc.string(), fc.constant(null), fc.double()), m: fc.oneof(fc.integer(), fc.constant(null)) }, { requiredKeys: ['t'] }).map((f) => ({ data: pack(f), what: 'a request without a numeric id or method name' })),
  fc.uint8Array({ minLength: 1, maxLength: 32 }).map((b) => ({ data: Buffer.concat([pack({ t: 'req', id: 1, m: 'Status.Ping', a: null }).subarray(0, 3), Buffer.from(b)]), what: 'a truncated request' })),
);

void test('RPC frames that are not requests close the connection, and only it', async () => {
  const bystander = await open();
  try {
    await fc.assert(
      fc.asyncProperty(notARequest, async ({ data, what }) => {
        const ws = await open();
        const isRequest = typeof data !== 'string' && decodeFrame(data)?.t === 'req';
        const outcome = await send(ws, data);
        ws.terminate();
        if (isRequest) {
          // Random bytes can spell a valid request (rarely): then it must be answered.
          assert.equal(outcome.kind, 'reply', `${what}: a valid request was not answered`);
        } else {
          assert.equal(outcome.kind, 'closed', `${what}: ${JSON.stringify(outcome)}`);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
    // A connection that behaved is still open and served.
    assert.equal(bystander.readyState, WebSocket.OPEN);
    assert.deepEqual(await call(bystander, { t: 'req', id: 9, m: 'Status.Ping', a: null }), { kind: 'reply', frame: { t: 'res', id: 9, r: { ok: true } } });
  } finally {
    bystander.terminate();
  }
  await assertServing();
});

void test('an RPC frame over the size limit closes the connection (1009)', async () => {
  const ws = await open();
  const outcome = await send(ws, Buffer.alloc(MAX_FRAME_BYTES + 1));
  ws.terminate();
  assert.deepEqual(outcome, { kind: 'closed', code: 1009 });
  await assertServing();
});

const methods = ['Status.Ping', 'Job.Register', 'Job.Evaluate', 'Job.Deregister', 'Node.Register', 'Node.UpdateStatus', 'Node.UpdateAlloc', 'Node.UpdateEligibility', 'Node.UpdateDrain', 'Node.WatchAllocs', 'System.GarbageCollect', 'Operator.SchedulerSetConfiguration'];

const oddValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, -1, 1e308, '', 'sentinel', [], {}, Number.NaN, true));

/** Plausible arguments for each method, then a few fields swapped for odd values. */
function argsFor(method: string, nodeNo: number): unknown {
  const node = testNode(`fuzz-node-${nodeNo}`);
  switch (method) {
    case 'Job.Register':
      return { Job: testJob({ ID: `fuzz-${nodeNo}`, Name: `fuzz-${nodeNo}` }) };
    case 'Node.Register':
      return { Node: node };
    case 'Job.Evaluate':
    case 'Job.Deregister':
      return { Namespace: 'default', JobID: `fuzz-${nodeNo}`, Purge: false };
    default:
      return { NodeID: node.ID, SecretID: node.SecretID, Status: 'ready', Allocs: [], Eligibility: 'eligible', DrainSpec: null, MarkEligible: false, Config: {}, CAS: null };
  }
}

void test('RPC requests with odd methods and arguments are answered; the server keeps serving and scheduling', async () => {
  const ws = await open();
  const internal: string[] = [];
  let id = 100;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...methods) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
        fc.nat({ max: 20 }),
        fc.array(fc.tuple(fc.array(fc.nat(), { maxLength: 5 }), oddValue), { maxLength: 3 }),
        async (method, n, muts) => {
          let args = argsFor(method, n);
          for (const [path, v] of muts) args = mutateAt(args, path, v);
          // The stored job is the one thing the fuzzer must not legitimately change.
          if (JSON.stringify(args).includes('sentinel')) return;
          const reqId = id++;
          const outcome = await call(ws, { t: 'req', id: reqId, m: method, a: args });
          assert.equal(outcome.kind, 'reply', `${method} ${JSON.stringify(args)}: ${JSON.stringify(outcome)}`);
          const f = (outcome as { frame: { t: string; id: number; e?: { code: string; message: string } } }).frame;
          assert.equal(f.id, reqId);
          assert.ok(f.t === 'res' || f.t === 'err', JSON.stringify(f));
          if (f.e?.code === 'internal') internal.push(`${method} ${JSON.stringify(args)} -> ${f.e.message}`);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
    assert.equal(ws.readyState, WebSocket.OPEN, 'requests never close the connection');
  } finally {
    ws.terminate();
  }
  await assertServing();

  // Whatever the fuzzer got stored (nodes, jobs) must not stop the scheduler: a new job is
  // still evaluated to completion.
  const reg = await fetch(`${ts.httpUrl}/v1/jobs`, { method: 'POST', body: JSON.stringify({ Job: testJob({ ID: 'after-fuzz', Name: 'after-fuzz' }) }) });
  assert.equal(reg.status, 200, await reg.text());
  const deadline = Date.now() + 15_000;
  for (;;) {
    const evals = ts.server.state.evalsByJob('default', 'after-fuzz');
    if (evals.length > 0 && evals.every((e) => e.Status !== 'pending')) {
      assert.ok(evals.every((e) => e.Status === 'complete' || e.Status === 'blocked'), JSON.stringify(evals.map((e) => [e.Status, e.StatusDescription])));
      break;
    }
    assert.ok(Date.now() < deadline, 'the evaluation of a job registered after the fuzzing never finished');
    await new Promise((r) => setTimeout(r, 50));
  }

  // Odd arguments get clear errors (invalid_argument, not_found ...), never internal ones.
  assert.deepEqual(internal.slice(0, 5), [], `${internal.length} requests got internal errors`);
});
