/**
 * 1. A service job with the docker driver (busybox httpd) and count 3 spreads over the clients,
 * and the port of each allocation answers from the host.
 */
import assert from 'node:assert/strict';
import type { Scenario } from '../scenario.js';
import { allocPort, countBy, runJob, waitRunning } from '../scenario.js';
import { FAIL_FAST } from '../jobs.js';
import { waitUntil } from '../wait.js';

export const dockerService: Scenario = {
  id: 1,
  title: 'docker service, count 3, spread, ports answer',
  async run(ctx) {
    const jobId = 'e2e-1-web';
    await runJob(ctx, {
      id: jobId,
      type: 'service',
      count: 3,
      // The Nomad way: the port is asked for in the group's network block, mapped to 8080.
      group: `network {\n  port "http" {\n    to = 8080\n  }\n}\n${FAIL_FAST}`,
      task: {
        driver: 'docker',
        config: [
          `image   = "${ctx.images.task}"`,
          'command = "/bin/sh"',
          // Each allocation serves its own ID, so the test knows which one answered.
          'args    = ["-c", "mkdir -p /tmp/www && echo $NOMAD_ALLOC_ID > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]',
          'ports   = ["http"]',
        ].join('\n'),
      },
    });
    const allocs = await waitRunning(ctx, jobId, 3);
    const perNode = countBy(allocs, (a) => a.NodeName);
    const clients = ctx.cluster.clients({ baseOnly: true }).map((c) => c.name);
    for (const c of clients) {
      assert.ok((perNode.get(c) ?? 0) >= 1, `the 3 allocations should spread over every client, got ${JSON.stringify(Object.fromEntries(perNode))}`);
    }
    for (const a of allocs) {
      const { ip, port } = await allocPort(ctx, a.ID, 'http');
      assert.ok(port > 0, `allocation ${a.ID} has a host port`);
      const node = ctx.cluster.node(a.NodeName);
      assert.equal(ip, node.ip, `allocation ${a.ID}'s port is on its node's address`);
      const body = await waitUntil(
        `http://${ip}:${port}/ of allocation ${a.ID.slice(0, 8)} on ${a.NodeName} to answer`,
        async () => {
          const res = await fetch(`http://${ip}:${port}/`, { signal: AbortSignal.timeout(3000) });
          return res.ok ? (await res.text()).trim() : undefined;
        },
        { timeoutMs: 20_000 },
      );
      assert.equal(body, a.ID, `the port of allocation ${a.ID} answers with its own ID`);
    }
    ctx.log(`3 allocations over ${[...perNode].map(([n, c]) => `${n}×${c}`).join(', ')}; every port answered`);
  },
};
