import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PartialAgentConfig } from './agent-config.js';
import { mergeConfigAt } from './config-merge.js';

void describe('mergeConfigAt', () => {
  const base: PartialAgentConfig = {
    region: 'a',
    logJson: true,
    server: { enabled: true, serverJoin: { retryJoin: ['x', 'y'], retryMax: 3 } },
    client: {
      servers: ['s1:4647'],
      meta: { k1: 'v1', k2: 'v2' },
      hostVolumes: { data: { path: '/d', readOnly: true } },
    },
    files: ['a.hcl'],
  };

  void it('follows Nomad\'s rules: scalars replace, maps merge, lists replace, servers append', () => {
    const over: PartialAgentConfig = {
      region: 'b',
      logJson: false,
      server: { serverJoin: { retryJoin: ['z'] } },
      client: {
        servers: ['s2:4647', 's1:4647'],
        meta: { k2: 'w2', k3: 'w3' },
        hostVolumes: { data: { path: '/e', readOnly: false }, logs: { path: '/l', readOnly: false } },
      },
      files: ['b.hcl'],
    };
    assert.deepEqual(mergeConfigAt(base, over), {
      region: 'b',
      logJson: false,
      server: { enabled: true, serverJoin: { retryJoin: ['z'], retryMax: 3 } },
      client: {
        servers: ['s1:4647', 's2:4647'],
        meta: { k1: 'v1', k2: 'w2', k3: 'w3' },
        hostVolumes: { data: { path: '/e', readOnly: false }, logs: { path: '/l', readOnly: false } },
      },
      files: ['a.hcl', 'b.hcl'],
    });
  });

  void it('keeps what the overlay leaves unset and changes neither input', () => {
    const snapshot = structuredClone(base);
    const merged = mergeConfigAt(base, { datacenter: 'dc2' });
    assert.deepEqual(merged, { ...snapshot, datacenter: 'dc2' });
    merged.client?.servers?.push('mutated');
    assert.deepEqual(base, snapshot);
  });
});
