/** `yurt server members` output, laid out as Nomad's `nomad server members`. */
import type { AgentMember } from '../../api/agent.js';
import { formatList } from './table.js';
import type { Row } from './table.js';

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A member is the leader when its address and RPC port (the `port` tag; the member's own
 * Port is the gossip port) equal what /v1/status/leader answers, as Nomad decides it.
 */
export function isLeaderMember(m: AgentMember, leaderAddr: string): boolean {
  const rpcPort = m.Tags['port'];
  return leaderAddr !== '' && rpcPort !== undefined && joinHostPort(m.Addr, rpcPort) === leaderAddr;
}

export function formatServerMembers(members: readonly AgentMember[], leaderAddr: string): string {
  const rows: Row[] = [['Name', 'Address', 'Port', 'Status', 'Leader', 'Raft Version', 'Build', 'Datacenter', 'Region']];
  const sorted = [...members].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  for (const m of sorted) {
    rows.push([
      m.Name,
      m.Addr,
      m.Port,
      m.Status,
      isLeaderMember(m, leaderAddr),
      m.Tags['raft_vsn'] ?? '',
      m.Tags['build'] ?? '',
      m.Tags['dc'] ?? '',
      m.Tags['region'] ?? '',
    ]);
  }
  return formatList(rows);
}
