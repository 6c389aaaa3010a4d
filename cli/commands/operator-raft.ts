/** `yurt operator raft remove-peer` and `transfer-leadership`, as Nomad's. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const peerFlags = defineFlags({
  'peer-id': { type: 'string', placeholder: 'id', help: 'ID of the server (see `yurt operator raft list-peers`).' },
  'peer-address': { type: 'string', placeholder: 'addr', help: 'Address of the server, as IP:port.' },
});

function peer(f: { 'peer-id'?: string; 'peer-address'?: string }, required: boolean): { id?: string; address?: string } {
  const id = f['peer-id'] ?? '';
  const address = f['peer-address'] ?? '';
  if (id !== '' && address !== '') throw new UsageError('Cannot give both -peer-id and -peer-address');
  if (required && id === '' && address === '') throw new UsageError('Missing peer: give -peer-id or -peer-address');
  return id !== '' ? { id } : address !== '' ? { address } : {};
}

export const raftRemovePeerCommand: Command = {
  path: ['operator', 'raft', 'remove-peer'],
  synopsis: 'Remove a Yurt server from the Raft configuration',
  help: commandHelp({
    usage: 'yurt operator raft remove-peer [options]',
    description:
      'Removes a server from the Raft configuration: for a server that failed and will not\ncome back, so that the quorum is counted without it.',
    general: true,
    optionsTitle: 'Remove Peer Options',
    flags: peerFlags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...peerFlags });
    expectArgs(args, 0, 0, 'no arguments');
    const p = peer(f, true);
    try {
      await apiClient(io, f).operator.raftRemovePeer(p);
      io.out(`Removed peer with ${p.id !== undefined ? `id "${p.id}"` : `address "${p.address ?? ''}"`}`);
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error removing peer', err);
    }
  },
};

export const raftTransferLeadershipCommand: Command = {
  path: ['operator', 'raft', 'transfer-leadership'],
  synopsis: 'Transfer leadership to a specified Yurt server',
  help: commandHelp({
    usage: 'yurt operator raft transfer-leadership [options]',
    description:
      'Hands Raft leadership to the given server, or, with neither flag, to the most\nup-to-date other voter. Use it before restarting the leader in a rolling upgrade.',
    general: true,
    optionsTitle: 'Transfer Leadership Options',
    flags: peerFlags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...peerFlags });
    expectArgs(args, 0, 0, 'no arguments');
    const p = peer(f, false);
    try {
      const r = (await apiClient(io, f).operator.raftTransferLeadership(p)).data;
      io.out(`Transferred leadership to ${r?.Leader ?? 'another server'}`);
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error transferring leadership', err);
    }
  },
};
