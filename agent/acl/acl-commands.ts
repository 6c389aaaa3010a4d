/**
 * The Raft commands that change ACL and namespace state. Like every FSM command they carry
 * everything non-deterministic (IDs, secrets, times) decided by the proposer; the FSM only
 * stamps Raft indexes. Applied by acl-fsm.ts.
 */
import type { ACLPolicy, ACLToken, Namespace } from '../../structs/acl.js';

type Unindexed<T> = Omit<T, 'CreateIndex' | 'ModifyIndex'>;

export type AclCommand =
  /** The first management token; refused (updated: false) once the ACL system is bootstrapped. */
  | { type: 'ACLBootstrap'; token: Unindexed<ACLToken> }
  | { type: 'ACLPolicyUpsert'; policies: Array<Unindexed<ACLPolicy>> }
  | { type: 'ACLPolicyDelete'; names: string[] }
  | { type: 'ACLTokenUpsert'; tokens: Array<Unindexed<ACLToken>> }
  | { type: 'ACLTokenDelete'; accessorIds: string[] }
  | { type: 'NamespaceUpsert'; namespaces: Array<Unindexed<Namespace>> }
  /** Refused (updated: false) for `default` and for a namespace that still holds jobs. */
  | { type: 'NamespaceDelete'; names: string[] };
