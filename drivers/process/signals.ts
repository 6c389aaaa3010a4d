/**
 * Signal names as users write them in job files (`kill_signal = "SIGINT"`), and the
 * sending of signals to whole process groups and sessions.
 */
import { constants } from 'node:os';
import { YurtError } from '../../structs/errors.js';
import { sessionMembers } from './proc-stat.js';

export interface ParsedSignal {
  name: NodeJS.Signals;
  number: number;
}

/** Accepts "SIGTERM", "TERM", "sigterm" or a number ("15"); throws a user error otherwise. */
export function parseSignal(input: string): ParsedSignal {
  const s = input.trim().toUpperCase();
  const table = constants.signals as Record<string, number | undefined>;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    for (const [name, num] of Object.entries(table)) {
      if (num === n) return { name: name as NodeJS.Signals, number: n };
    }
  } else {
    const name = s.startsWith('SIG') ? s : `SIG${s}`;
    const num = table[name];
    if (num !== undefined) return { name: name as NodeJS.Signals, number: num };
  }
  throw new YurtError('invalid_argument', `unknown signal "${input}"`);
}

export function signalName(num: number): string {
  for (const [name, n] of Object.entries(constants.signals)) if (n === num) return name;
  return `signal ${num}`;
}

/** kill(2) that treats "no such process" as done. */
export function sendSignal(pid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** killpg(2): a negative pid addresses the process group. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
  return sendSignal(-pgid, signal);
}

/**
 * SIGKILL every process of session `sid`, repeating while new members show up (a member
 * may fork between our scan and our kill). The session id is safe to act on without a
 * start-time check: Linux does not reuse a number while any process still has it as its
 * session id, so every member found belongs to the task that created the session.
 */
export async function killSession(sid: number, procRoot = '/proc'): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const members = await sessionMembers(sid, procRoot);
    if (members.length === 0) return;
    for (const p of members) sendSignal(p.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, round < 5 ? 5 : 50));
  }
}
