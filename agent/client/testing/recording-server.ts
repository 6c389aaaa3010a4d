/**
 * Test support: the servers' side of the client protocol on a real RPC listener on loopback,
 * answering registration, heartbeats and allocation watches, recording what clients send, and
 * pushing allocations to them, so the client can be tested without a Raft cluster.
 */
import pino from 'pino';
import type { AllocClientUpdate, Allocation } from '../../../structs/alloc.js';
import type { Node } from '../../../structs/node.js';
import { RpcServer, type RpcConnection } from '../../rpc/rpc-server.js';
import type { AllocsPush, NodeRegisterResponse } from '../../server/endpoints.js';

export interface RecordingServer {
  rpc: RpcServer;
  addr: string;
  registrations: Node[];
  updates: AllocClientUpdate[];
  /** The newest update received for an allocation. */
  lastUpdate(allocId: string): AllocClientUpdate | undefined;
  /** Sends allocations to the watching client, as the servers push them. */
  push(allocs: Allocation[]): void;
  close(): Promise<void>;
}

export async function startRecordingServer(port = 0): Promise<RecordingServer> {
  const registrations: Node[] = [];
  const updates: AllocClientUpdate[] = [];
  let watcher: RpcConnection | null = null;
  let index = 1;
  const rpc = new RpcServer(pino({ level: 'silent' }));
  const ok = (): NodeRegisterResponse => ({ HeartbeatTTLMs: 10_000, Index: index, LeaderRpcAddr: '' });
  rpc.handle('Node.Register', (a) => {
    registrations.push((a as { Node: Node }).Node);
    return ok();
  });
  rpc.handle('Node.UpdateStatus', ok);
  rpc.handle('Node.WatchAllocs', (a, conn): AllocsPush => {
    watcher = conn;
    return { NodeID: (a as { NodeID: string }).NodeID, Index: index, Allocs: [] };
  });
  rpc.handle('Node.UpdateAlloc', (a) => {
    updates.push(...(a as { Allocs: AllocClientUpdate[] }).Allocs);
    return {};
  });
  const address = await rpc.listen('127.0.0.1', port);
  return {
    rpc,
    addr: `127.0.0.1:${address.port}`,
    registrations,
    updates,
    lastUpdate: (id) => updates.filter((u) => u.ID === id).at(-1),
    push: (allocs) => {
      index++;
      const w = watcher;
      if (w === null) throw new Error('no client is watching');
      w.push('allocs', { NodeID: '', Index: index, Allocs: allocs } satisfies AllocsPush);
    },
    close: () => rpc.close(),
  };
}
