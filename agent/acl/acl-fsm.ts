/**
 * How the FSM applies ACL and namespace commands to the state store. Guards that depend on
 * state (bootstrap only once, no deleting a namespace with jobs) are checked here, inside the
 * apply, so they hold even when two proposals race: the endpoints check first for a clear
 * message, the FSM decides.
 */
import { DEFAULT_NAMESPACE } from '../../structs/acl.js';
import type { StateWriter } from '../server/state/state-store.js';
import type { AclCommand } from './acl-commands.js';

export function applyAclCommand(w: StateWriter, cmd: AclCommand): { index: number; updated: boolean } {
  switch (cmd.type) {
    case 'ACLBootstrap': {
      if (w.aclBootstrapIndex() !== 0) return { index: w.index, updated: false };
      w.putAclToken({ ...cmd.token, CreateIndex: w.index, ModifyIndex: w.index });
      w.markAclBootstrapped();
      return { index: w.index, updated: true };
    }
    case 'ACLPolicyUpsert':
      for (const p of cmd.policies) {
        const prev = w.aclPolicy(p.Name);
        w.putAclPolicy({ ...p, CreateIndex: prev?.CreateIndex ?? w.index, ModifyIndex: w.index });
      }
      return { index: w.index, updated: true };
    case 'ACLPolicyDelete':
      for (const n of cmd.names) w.deleteAclPolicy(n);
      return { index: w.index, updated: true };
    case 'ACLTokenUpsert':
      for (const t of cmd.tokens) {
        const prev = w.aclTokenByAccessor(t.AccessorID);
        w.putAclToken({ ...t, CreateIndex: prev?.CreateIndex ?? w.index, ModifyIndex: w.index });
      }
      return { index: w.index, updated: true };
    case 'ACLTokenDelete':
      for (const id of cmd.accessorIds) w.deleteAclToken(id);
      return { index: w.index, updated: true };
    case 'NamespaceUpsert':
      for (const ns of cmd.namespaces) {
        const prev = w.namespace(ns.Name);
        w.putNamespace({ ...ns, CreateIndex: prev?.CreateIndex ?? w.index, ModifyIndex: w.index });
      }
      return { index: w.index, updated: true };
    case 'NamespaceDelete': {
      // All or nothing: one refused namespace leaves the others in place too.
      if (cmd.names.some((n) => n === DEFAULT_NAMESPACE || w.jobs(n).length > 0)) return { index: w.index, updated: false };
      for (const n of cmd.names) w.deleteNamespace(n);
      return { index: w.index, updated: true };
    }
  }
}
