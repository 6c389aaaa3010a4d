/**
 * `-self`: the ID of the client node the CLI's agent runs, read from GET /v1/agent/self
 * (`stats.client.node_id`), as Nomad's CLI finds the local node.
 */
import type { ApiClient } from '../api/client.js';
import { asYurtError } from '../structs/errors.js';
import type { CliIo } from './io.js';
import { EXIT_ERROR } from './command.js';

/** The local node's ID, or (after printing why) the exit code to return. */
export async function localNodeId(io: CliIo, client: ApiClient): Promise<string | number> {
  let self;
  try {
    self = (await client.agent.self()).data;
  } catch (err) {
    io.err(`Error querying agent info: ${asYurtError(err).message}`);
    return EXIT_ERROR;
  }
  const id = self?.stats?.['client']?.['node_id'];
  if (id === undefined || id === '') {
    io.err('Command not valid on non-client node');
    return EXIT_ERROR;
  }
  return id;
}
