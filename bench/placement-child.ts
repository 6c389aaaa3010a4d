/**
 * B2's child process (see runPlacementBench): measures, reports the figures to the parent over
 * IPC, and exits.
 */
import { measurePlacement } from './placement-e2e.js';

try {
  const result = await measurePlacement();
  process.send?.({ result });
} catch (err) {
  process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
process.disconnect?.();
