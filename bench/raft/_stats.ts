import { ProcessCluster } from '../../consensus/testing/process-cluster.js';
const c = await ProcessCluster.start({ keep: true, tuning: { tickMs: 20, electionTicks: 10, heartbeatTicks: 2 } });
const leader = await c.leader();
const before = new Map([...(await c.statuses())].map(([id, s]) => [id, s.stats]));
const total = 20000; let issued = 0; const t0 = performance.now();
await Promise.all(Array.from({ length: Number(process.argv[2] ?? 1000) }, async () => { while (issued < total) { issued++; await leader.call({ op: 'put', key: 'k', value: 'v', padTo: 256, timeoutMs: 30000 }, 31000).catch(() => undefined); } }));
console.log('ops/s', Math.round(total / ((performance.now() - t0) / 1000)));
for (const [id, s] of await c.statuses()) {
  const b = before.get(id)!; const d = (k: string) => Number(s.stats[k]) - Number(b[k]);
  console.log(id, s.role, 'readies', d('readies'), 'entries/ready', (total / d('readies')).toFixed(1), 'framesSent', d('transport_framesSent'), 'msgsSent', d('transport_sent'), 'persist_ms', d('persist_ms'), 'apply_ms', d('apply_ms'));
}
await c.close(true).catch(() => undefined);
