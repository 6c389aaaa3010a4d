/**
 * Jepsen-style run against a real three-process cluster: concurrent clients write and read
 * a few keys while a nemesis kills -9 the leader (and restarts it on its data), SIGSTOPs a
 * server, partitions one away through the fault layer, and makes links lossy and slow.
 * Every operation is recorded with its call and return times; writes whose outcome is
 * unknown (timeout, lost leader, dead server) are recorded as indeterminate. The history is
 * then checked for linearizability, and no acknowledged write may be missing at the end.
 */
import type { KvOperation, LinearizabilityResult } from './linearizability.js';
import { checkLinearizable } from './linearizability.js';
import type { ProcessCluster, ServerProcess } from './process-cluster.js';
import { NotLeaderError, YurtError } from '../../structs/errors.js';

export interface WorkloadOptions {
  durationMs: number;
  clients?: number;
  keys?: number;
  opTimeoutMs?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface WorkloadResult {
  history: KvOperation[];
  check: LinearizabilityResult;
  acknowledgedWrites: number;
  indeterminateWrites: number;
  reads: number;
  nemesis: string[];
  /** Acknowledged writes whose key ended with a value that no later write explains. */
  lostWrites: string[];
}

export async function runNemesisWorkload(cluster: ProcessCluster, opts: WorkloadOptions): Promise<WorkloadResult> {
  let seed = opts.seed ?? 1;
  const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const keys = Array.from({ length: opts.keys ?? 3 }, (_, i) => `k${i}`);
  const opTimeout = opts.opTimeoutMs ?? 1000;
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const history: KvOperation[] = [];
  const nemesis: string[] = [];
  const note = (s: string) => {
    nemesis.push(`${now().toFixed(0)} ms: ${s}`);
    opts.log?.(`${now().toFixed(0)} ms: ${s}`);
  };
  let writeSeq = 0;
  let running = true;

  const servers = () => [...cluster.servers.values()];
  const usable = () => servers().filter((s) => s.running && !s.stopped);

  async function client(id: number): Promise<void> {
    let target: ServerProcess | undefined;
    while (running) {
      const key = pick(keys);
      const isWrite = rnd() < 0.5;
      const live = usable();
      if (live.length === 0) {
        await sleep(20);
        continue;
      }
      // Writes go where the client believes the leader is; reads anywhere (followers too).
      const server = isWrite && target?.running === true && !target.stopped ? target : pick(live);
      const callAt = now();
      if (isWrite) {
        const value = `c${id}-${++writeSeq}`;
        try {
          await server.call({ op: 'put', key, value, timeoutMs: opTimeout }, opTimeout + 200);
          history.push({ client: id, key, kind: 'put', value, callAt, returnAt: now() });
        } catch (e) {
          if (e instanceof NotLeaderError) {
            // Refused before proposing: it never happened.
            target = servers().find((s) => s.id === e.leaderId);
          } else if (e instanceof YurtError && e.code === 'unavailable' && e.message.includes('back-pressure')) {
            // Refused before proposing, too.
          } else {
            history.push({ client: id, key, kind: 'put', value, callAt, returnAt: Infinity });
            target = undefined;
          }
        }
      } else {
        try {
          const r = await server.call<{ value: string | null }>({ op: 'get', key, timeoutMs: opTimeout }, opTimeout + 200);
          history.push({ client: id, key, kind: 'get', value: r.value, callAt, returnAt: now() });
        } catch {
          // A read without an answer says nothing.
        }
      }
    }
  }

  async function nemesisLoop(): Promise<void> {
    const actions = ['kill-leader', 'pause', 'partition', 'lossy'] as const;
    let i = 0;
    while (running && now() < opts.durationMs - 1500) {
      await sleep(300 + rnd() * 400);
      if (!running) return;
      const action = actions[i++ % actions.length]!;
      const leader = await cluster.leader(3000).catch(() => null);
      switch (action) {
        case 'kill-leader': {
          if (leader === null) break;
          note(`kill -9 ${leader.id} (leader)`);
          await leader.kill();
          await sleep(400 + rnd() * 600);
          note(`restart ${leader.id}`);
          await leader.start();
          break;
        }
        case 'pause': {
          const victim = pick(usable());
          note(`SIGSTOP ${victim.id}${victim === leader ? ' (leader)' : ''}`);
          victim.pause();
          await sleep(500 + rnd() * 700);
          victim.resume();
          note(`SIGCONT ${victim.id}`);
          break;
        }
        case 'partition': {
          const victim = pick(usable());
          const others = servers().map((s) => s.id).filter((id) => id !== victim.id);
          note(`partition ${victim.id}${victim === leader ? ' (leader)' : ''} | ${others.join(' ')}`);
          await cluster.faults((id) => (id === victim.id ? { partitioned: others } : { partitioned: [victim.id] }));
          await sleep(500 + rnd() * 700);
          await cluster.faults(() => ({}));
          note('heal');
          break;
        }
        case 'lossy':
          note('links drop 20%, duplicate 10%, delay 0-15 ms, reorder 20%');
          await cluster.faults(() => ({ all: { drop: 0.2, duplicate: 0.1, delayMs: 0, jitterMs: 15, reorder: 0.2 } }));
          await sleep(500 + rnd() * 500);
          await cluster.faults(() => ({}));
          note('heal');
          break;
      }
    }
  }

  const workers = Array.from({ length: opts.clients ?? 4 }, (_, i) => client(i + 1));
  const nemesisDone = nemesisLoop();
  await sleep(opts.durationMs);
  running = false;
  await nemesisDone;
  await Promise.all(workers);

  // Heal everything, then read every key through the leader: the final word on each key.
  for (const s of servers()) {
    if (s.stopped) s.resume();
    if (!s.running) await s.start();
  }
  await cluster.faults(() => ({}));
  note('healed; final reads');
  const leader = await cluster.leader(15_000);
  for (const key of keys) {
    const callAt = now();
    const r = await leader.call<{ value: string | null }>({ op: 'get', key }, 10_000);
    history.push({ client: 0, key, kind: 'get', value: r.value, callAt, returnAt: now() });
  }

  const check = checkLinearizable(history);
  // Redundant with linearizability, and stated plainly: the final value of a key is never
  // older than an acknowledged write that completed before some other write began.
  const lostWrites: string[] = [];
  for (const key of keys) {
    const final = history.findLast((o) => o.key === key && o.client === 0);
    const acked = history.filter((o) => o.key === key && o.kind === 'put' && Number.isFinite(o.returnAt));
    const last = acked.reduce<KvOperation | null>((a, o) => (a === null || o.returnAt > a.returnAt ? o : a), null);
    if (last === null || final === undefined) continue;
    const couldFollow = history.some((o) => o.key === key && o.kind === 'put' && o.value === final.value && (o.returnAt > last.callAt || !Number.isFinite(o.returnAt)));
    if (final.value !== last.value && !couldFollow) lostWrites.push(`${key}: acknowledged ${last.value}, finally ${String(final.value)}`);
  }
  return {
    history,
    check,
    acknowledgedWrites: history.filter((o) => o.kind === 'put' && Number.isFinite(o.returnAt)).length,
    indeterminateWrites: history.filter((o) => o.kind === 'put' && !Number.isFinite(o.returnAt)).length,
    reads: history.filter((o) => o.kind === 'get').length,
    nemesis,
    lostWrites,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
