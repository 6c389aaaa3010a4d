/**
 * A RaftNode's start once its stores are open: finish an interrupted snapshot install,
 * recover from peers.json, bootstrap an empty store, bring a state machine that fell behind
 * the compacted log up to the snapshot, and build the core.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from './core/configuration.js';
import { encodeConfiguration } from './core/configuration.js';
import { RaftCore } from './core/raft-core.js';
import type { NodeTiming, RaftLogger, RaftNodeOptions, ServerAddress } from './node-options.js';
import { PEERS_FILE, readPeersFile } from './peers-file.js';
import type { RaftStorage } from './storage/raft-storage.js';
import type { SnapshotStore } from './storage/snapshot-store.js';
import { YurtError } from '../structs/errors.js';

export interface StartupInput {
  opts: RaftNodeOptions;
  timing: NodeTiming;
  /** The initial configuration if the store is empty (start()'s argument or the option). */
  bootstrap: ServerAddress[] | undefined;
  storage: RaftStorage;
  snapshots: SnapshotStore;
  logger: RaftLogger;
}

export async function prepareCore({ opts, timing, bootstrap, storage, snapshots, logger }: StartupInput): Promise<RaftCore> {
  await storage.useSnapshot(snapshots.latest());
  await recoverFromPeersFile(storage, opts.dataDir, logger);
  if (storage.isEmpty() && snapshots.latest() === undefined && bootstrap !== undefined) {
    const servers = bootstrap.map((s): Server => ({ id: s.id, address: s.address, suffrage: 'voter' }));
    await storage.persist({ term: 1, vote: '', commit: 0 }, [{ index: 1, term: 1, type: 'config', data: encodeConfiguration({ servers }) }]);
    logger.info({ servers: servers.map((s) => s.id) }, 'bootstrapped a new cluster configuration');
  }
  let applied = opts.fsm.lastApplied();
  const snap = storage.snapshot();
  if (applied < storage.firstIndex() - 1) {
    // The entries the state machine misses were compacted: start it from the snapshot.
    const s = await snapshots.read(snap.index);
    if (s === undefined) throw new YurtError('corrupted', `raft snapshot ${snap.index} is missing from ${snapshots.dir}`);
    await opts.fsm.restore(s.data, snap.index, snap.term);
    applied = snap.index;
    logger.info({ index: snap.index, term: snap.term }, 'restored the state machine from a snapshot');
  }
  return new RaftCore({
    id: opts.id,
    storage,
    applied,
    random: opts.random ?? Math.random,
    electionTicks: timing.electionTicks,
    heartbeatTicks: timing.heartbeatTicks,
    ...(opts.preVote !== undefined ? { preVote: opts.preVote } : {}),
    ...(opts.checkQuorum !== undefined ? { checkQuorum: opts.checkQuorum } : {}),
    ...(opts.maxInflightMsgs !== undefined ? { maxInflightMsgs: opts.maxInflightMsgs } : {}),
    ...(opts.maxUncommittedBytes !== undefined ? { maxUncommittedBytes: opts.maxUncommittedBytes } : {}),
    ...(opts.maxSizePerMsg !== undefined ? { maxSizePerMsg: opts.maxSizePerMsg } : {}),
    logger,
  });
}

/**
 * peers.json (see peers-file.ts): with a quorum permanently lost, the survivors replace
 * their configuration. The new configuration is appended as the next entry of a new term,
 * so it can never be mistaken for an entry some other server holds at that index; the file
 * is deleted only once that entry is durable.
 */
async function recoverFromPeersFile(storage: RaftStorage, dataDir: string, logger: RaftLogger): Promise<void> {
  const path = join(dataDir, PEERS_FILE);
  const config = readPeersFile(path);
  if (config === undefined) return;
  const hs = storage.initialState();
  const lastIndex = storage.lastIndex();
  const term = Math.max(hs.term, storage.term(lastIndex) ?? 0) + 1;
  await storage.persist({ term, vote: '', commit: hs.commit }, [
    { index: lastIndex + 1, term, type: 'config', data: encodeConfiguration(config) },
  ]);
  rmSync(path);
  logger.warn(
    { index: lastIndex + 1, term, servers: config.servers.map((s) => `${s.id}@${s.address}${s.suffrage === 'voter' ? '' : ' (nonvoter)'}`) },
    `recovered the configuration from ${PEERS_FILE}; the file was removed`,
  );
}
