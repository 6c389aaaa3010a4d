/**
 * Structural check of a message that arrived from outside the process. A transport decodes
 * bytes into some value; only a value that passes here may reach `RaftCore.step`, so a
 * malformed or hostile frame is dropped with a reason instead of corrupting the core.
 */
import type { Entry, EntryType, Message, MessageType } from './messages.js';

export type MessageCheck = { ok: true; message: Message } | { ok: false; reason: string };

const entryTypes: ReadonlySet<string> = new Set<EntryType>(['normal', 'noop', 'config']);

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkEntry(v: unknown, at: string): string | null {
  if (!isRecord(v)) return `${at}: not an object`;
  if (!isIndex(v['index']) || v['index'] === 0) return `${at}.index: not a positive integer`;
  if (!isIndex(v['term'])) return `${at}.term: not a non-negative integer`;
  if (typeof v['type'] !== 'string' || !entryTypes.has(v['type'])) return `${at}.type: unknown entry type`;
  if (!(v['data'] instanceof Uint8Array)) return `${at}.data: not bytes`;
  return null;
}

const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

function isServer(v: unknown): boolean {
  return (
    isRecord(v) &&
    typeof v['id'] === 'string' &&
    v['id'] !== '' &&
    typeof v['address'] === 'string' &&
    (v['suffrage'] === 'voter' || v['suffrage'] === 'nonvoter')
  );
}

function isSnapshotMeta(v: unknown): boolean {
  if (!isRecord(v) || !isIndex(v['index']) || !isIndex(v['term']) || !isIndex(v['configIndex'])) return false;
  if ((v['configIndex']) > (v['index'])) return false;
  const c = v['configuration'];
  return isRecord(c) && Array.isArray(c['servers']) && (c['servers'] as unknown[]).every(isServer);
}

/** Fields each message type needs besides the envelope, with their checks. */
const fieldsByType: { [K in MessageType]: Record<string, (v: unknown) => boolean> } = {
  vote: { lastLogIndex: isIndex, lastLogTerm: isIndex, transfer: isBool },
  voteResp: { reject: isBool },
  preVote: { lastLogIndex: isIndex, lastLogTerm: isIndex },
  preVoteResp: { reject: isBool },
  app: { prevIndex: isIndex, prevTerm: isIndex, commit: isIndex, entries: Array.isArray },
  appResp: { reject: isBool, index: isIndex, rejectHint: isIndex, hintTerm: isIndex },
  heartbeat: { commit: isIndex, ctx: isIndex },
  heartbeatResp: { ctx: isIndex },
  snap: { snapshot: isSnapshotMeta, data: isBytes },
  timeoutNow: {},
  readIndex: { ctx: isIndex },
  readIndexResp: { ctx: isIndex, index: isIndex, reject: isBool },
};

function isMessageType(v: unknown): v is MessageType {
  return typeof v === 'string' && Object.hasOwn(fieldsByType, v);
}

export function checkMessage(v: unknown): MessageCheck {
  if (!isRecord(v)) return { ok: false, reason: 'message is not an object' };
  const type = v['type'];
  if (!isMessageType(type)) return { ok: false, reason: `unknown message type ${JSON.stringify(type)}` };
  for (const f of ['from', 'to'] as const) {
    if (typeof v[f] !== 'string' || v[f] === '') return { ok: false, reason: `${type}.${f}: not a non-empty string` };
  }
  if (!isIndex(v['term'])) return { ok: false, reason: `${type}.term: not a non-negative integer` };
  if (v['from'] === v['to']) return { ok: false, reason: `${type}: from and to are the same server` };
  for (const [field, check] of Object.entries(fieldsByType[type])) {
    if (!check(v[field])) return { ok: false, reason: `${type}.${field}: invalid value` };
  }
  if (type === 'app') {
    const entries = v['entries'] as unknown[];
    let expected = (v['prevIndex'] as number) + 1;
    for (const [i, e] of entries.entries()) {
      const problem = checkEntry(e, `app.entries[${i}]`);
      if (problem !== null) return { ok: false, reason: problem };
      // Entries of one append are contiguous and follow prevIndex; the core relies on it.
      if ((e as Entry).index !== expected) return { ok: false, reason: `app.entries[${i}].index: expected ${expected}` };
      expected++;
    }
  }
  return { ok: true, message: v as unknown as Message };
}
