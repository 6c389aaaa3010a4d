/**
 * The RPC endpoints that change or describe the set of servers: hello (discovery, members),
 * join, remove-peer / force-leave, and leadership transfer. Changes run on the leader; any
 * server forwards them there.
 */
import { YurtError } from '../../structs/errors.js';
import type { RpcServer } from '../rpc/rpc-server.js';
import type { ServerEndpoints } from './endpoints.js';
import type { Server } from './server.js';

export interface RaftPeerSelector {
  ID?: string;
  Address?: string;
}

export class ClusterEndpoints {
  constructor(
    private readonly server: Server,
    private readonly endpoints: ServerEndpoints,
  ) {}

  register(rpc: RpcServer): void {
    rpc.handle('Server.Hello', () => this.server.hello());
    rpc.handle('Server.Join', (a) => this.join(a as { ID: string; RpcAddr: string }));
    rpc.handle('Operator.RaftRemovePeer', (a) => this.removePeer(a as RaftPeerSelector));
    rpc.handle('Operator.RaftTransferLeadership', (a) => this.transferLeadership(a as RaftPeerSelector));
    rpc.handle('Server.ForceLeave', (a) => this.forceLeave((a as { Node: string }).Node));
  }

  /** Adds a server: as a non-voter first, promoted once it has caught up (Raft thesis §4.2.1). */
  async join(a: { ID: string; RpcAddr: string }): Promise<{ Index: number }> {
    if (typeof a?.ID !== 'string' || a.ID === '' || typeof a.RpcAddr !== 'string' || a.RpcAddr === '') {
      throw new YurtError('invalid_argument', 'Server.Join needs ID and RpcAddr');
    }
    if (!this.server.isLeader()) return this.endpoints.forward('Server.Join', a);
    const index = await this.server.raft.addVoter(a.ID, a.RpcAddr, 110_000);
    return { Index: index };
  }

  async removePeer(sel: RaftPeerSelector): Promise<{ Index: number }> {
    if (!this.server.isLeader()) return this.endpoints.forward('Operator.RaftRemovePeer', sel);
    const id = this.peerId(sel);
    const index = await this.server.raft.removeServer(id);
    return { Index: index };
  }

  async transferLeadership(sel: RaftPeerSelector): Promise<{ Leader: string }> {
    if (!this.server.isLeader()) return this.endpoints.forward('Operator.RaftTransferLeadership', sel);
    const to = sel?.ID !== undefined || sel?.Address !== undefined ? this.peerId(sel) : undefined;
    if (to === this.server.opts.id) throw new YurtError('invalid_argument', 'this server already leads');
    const leader = await this.server.raft.transferLeadership(to);
    return { Leader: leader.address };
  }

  /** Nomad's force-leave by server name (`name` or `name.region`); removes it from Raft. */
  async forceLeave(node: string): Promise<{ Index: number }> {
    if (typeof node !== 'string' || node === '') throw new YurtError('invalid_argument', 'force-leave needs a server name');
    if (!this.server.isLeader()) return this.endpoints.forward('Server.ForceLeave', { Node: node });
    const id = this.server.membership.resolve(node);
    if (id === null) throw new YurtError('not_found', `no server named ${node}`);
    const index = await this.server.raft.removeServer(id);
    return { Index: index };
  }

  private peerId(sel: RaftPeerSelector): string {
    const config = this.server.raft.configuration();
    const byId = sel?.ID !== undefined && sel.ID !== '' ? config.find((s) => s.id === sel.ID) : undefined;
    const byAddr = sel?.Address !== undefined && sel.Address !== '' ? config.find((s) => s.address === sel.Address) : undefined;
    const found = byId ?? byAddr;
    if (!found) {
      if ((sel?.ID ?? '') === '' && (sel?.Address ?? '') === '') throw new YurtError('invalid_argument', 'Must specify either ?id with the server\'s ID or ?address with IP:port');
      throw new YurtError('not_found', `no raft peer with ${sel.ID !== undefined && sel.ID !== '' ? `id ${sel.ID}` : `address ${sel.Address ?? ''}`}`);
    }
    return found.id;
  }
}
