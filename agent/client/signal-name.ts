/**
 * Signal names a user may ask a task to receive (`alloc signal -s SIGHUP`): checked here so a
 * bad name is a clear 400 before any event is recorded, whatever the driver.
 */
import { constants } from 'node:os';
import { ValidationError } from '../../structs/errors.js';

/** "SIGHUP", "hup" or "1" → "SIGHUP"; anything else is a ValidationError on the Signal field. */
export function checkSignalName(input: string): NodeJS.Signals {
  const s = input.trim().toUpperCase();
  const table = constants.signals as Record<string, number | undefined>;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    for (const [name, num] of Object.entries(table)) if (num === n) return name as NodeJS.Signals;
  } else {
    const name = s.startsWith('SIG') ? s : `SIG${s}`;
    if (table[name] !== undefined) return name as NodeJS.Signals;
  }
  throw new ValidationError('signal', [{ path: 'Signal', message: `unknown signal "${input}"` }]);
}
