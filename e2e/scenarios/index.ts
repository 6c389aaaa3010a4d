/** The scenarios of the end-to-end suite, in the order they run (issue #10's numbering). */
import type { Scenario } from '../scenario.js';
import { dockerService } from './s01-docker-service.js';
import { execBatch } from './s02-exec-batch.js';
import { wasiJob } from './s03-wasi.js';
import { systemJob } from './s04-system-job.js';
import { constraintsBinPack } from './s05-constraints-binpack.js';
import { killLeader } from './s06-kill-leader.js';
import { partitionLeader } from './s07-partition-leader.js';
import { clientLost } from './s08-client-lost.js';
import { restartServers } from './s09-restart-servers.js';
import { restartClientAgent } from './s10-restart-client-agent.js';
import { drainClient } from './s11-drain.js';
import { rollingUpdate } from './s12-rolling-update.js';

export const scenarios: Scenario[] = [
  dockerService,
  execBatch,
  wasiJob,
  systemJob,
  constraintsBinPack,
  killLeader,
  partitionLeader,
  clientLost,
  restartServers,
  restartClientAgent,
  drainClient,
  rollingUpdate,
];

/** `--quick`: one scenario per layer (docker driver, exec driver and logs, Raft failover). */
export const QUICK = [1, 2, 6];
