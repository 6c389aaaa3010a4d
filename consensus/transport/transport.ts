/**
 * How a RaftNode reaches its peers. Delivery is best effort: Raft tolerates lost,
 * duplicated and reordered messages, so `send` never waits and never throws for a peer
 * that is down. Implementations: loopback.ts (in-process, for tests); a websocket one
 * comes with the multi-server deployment.
 */
import type { Message } from '../core/messages.js';

export interface Transport {
  /** Queues `msg` for the server with id `to`; silently dropped if it cannot be delivered. */
  send(to: string, msg: Message): void;
  /** Registers the single receiver of inbound messages. Inbound values are untrusted: the
   *  node checks their shape before use. */
  onMessage(handler: (msg: Message) => void): void;
  close(): Promise<void>;
  /** Told every id→address pair of the configuration whenever it changes, so a network
   *  transport knows where to dial. */
  setPeers?(peers: ReadonlyArray<{ id: string; address: string }>): void;
}
