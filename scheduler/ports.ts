/**
 * Host ports for a task group's `network` block (Nomad's NetworkIndex): static ports must be
 * free on the node, dynamic ports are drawn at random from the node's dynamic range, and
 * neither may collide with the node's reserved ports or with ports other allocations on the
 * node hold. Failures use Nomad's words, prefixed "network: " when counted as a dimension.
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import type { TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { AllocatedPortMapping, NetworkResource, Port } from '../structs/resources.js';
import { DEFAULT_MAX_DYNAMIC_PORT, DEFAULT_MIN_DYNAMIC_PORT } from '../structs/resources.js';

/** Nomad tries this many random dynamic ports before scanning the range (network.go maxRandPortAttempts). */
const MAX_RAND_PORT_ATTEMPTS = 20;

/** Parse an agent's `reserved { reserved_ports = "22,80,8000-8100" }` list; malformed parts are skipped. */
export function parsePortList(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(p);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let v = lo; v <= hi && v <= 65535; v++) out.push(v);
  }
  return out;
}

function networkPorts(nets: NetworkResource[], into: number[]): void {
  for (const n of nets) {
    for (const p of n.ReservedPorts) into.push(p.Value);
    for (const p of n.DynamicPorts) into.push(p.Value);
  }
}

/** Every host port an allocation holds. */
export function allocPorts(a: Allocation): number[] {
  const out: number[] = [];
  const ar = a.AllocatedResources;
  for (const p of ar.Shared.Ports) out.push(p.Value);
  networkPorts(ar.Shared.Networks, out);
  for (const t of Object.values(ar.Tasks)) networkPorts(t.Networks, out);
  return out.filter((v) => v > 0);
}

/** Ports taken on a node: the operator's reserved ports plus those of its live allocations. */
export function usedPorts(node: Node, allocs: readonly Allocation[]): Set<number> {
  const used = new Set<number>(parsePortList(node.ReservedResources?.Networks.ReservedHostPorts ?? ''));
  for (const a of allocs) if (!isAllocTerminal(a)) for (const p of allocPorts(a)) used.add(p);
  return used;
}

/**
 * The first port two live allocations on a node both hold, or one of the node's reserved
 * ports an allocation holds; null when there is none. The plan applier re-checks with this.
 */
export function portCollision(node: Node, allocs: Allocation[]): string | null {
  const reserved = new Set(parsePortList(node.ReservedResources?.Networks.ReservedHostPorts ?? ''));
  const seen = new Map<number, string>();
  for (const a of allocs) {
    if (isAllocTerminal(a)) continue;
    for (const p of new Set(allocPorts(a))) {
      if (reserved.has(p)) return `port ${p} of alloc ${a.ID} is reserved on the node`;
      const other = seen.get(p);
      if (other !== undefined) return `port ${p} is held by allocs ${other} and ${a.ID}`;
      seen.set(p, a.ID);
    }
  }
  return null;
}

export interface AssignedNetworks {
  networks: NetworkResource[];
  ports: AllocatedPortMapping[];
}

export type PortAssignment = { ok: true; value: AssignedNetworks } | { ok: false; reason: string };

/** The address a node's ports are reached at (Nomad's HostIP in AllocatedPortMapping). */
export function nodeHostIP(node: Node): string {
  return node.Attributes['unique.network.ip-address'] ?? node.NodeResources.Networks[0]?.IP ?? '';
}

/**
 * Assign the group's network ports on `node`, given the ports already taken there.
 * `random` is the scheduler's seeded RNG, so the same seed picks the same ports.
 */
export function assignGroupPorts(tg: TaskGroup, node: Node, used: Set<number>, random: () => number): PortAssignment {
  if (tg.Networks.length === 0) return { ok: true, value: { networks: [], ports: [] } };
  const taken = new Set(used);
  const ip = nodeHostIP(node);
  const networks: NetworkResource[] = [];
  const ports: AllocatedPortMapping[] = [];
  // Static ports first, for all networks, so a dynamic pick never steals one the job names.
  for (const net of tg.Networks) {
    for (const p of net.ReservedPorts) {
      if (taken.has(p.Value)) return { ok: false, reason: `reserved port collision ${p.Label}=${p.Value}` };
      taken.add(p.Value);
    }
  }
  const min = node.NodeResources.MinDynamicPort || DEFAULT_MIN_DYNAMIC_PORT;
  const max = node.NodeResources.MaxDynamicPort || DEFAULT_MAX_DYNAMIC_PORT;
  for (const net of tg.Networks) {
    const reserved: Port[] = net.ReservedPorts.map((p) => ({ ...p }));
    const dynamic: Port[] = [];
    for (const p of net.DynamicPorts) {
      const v = pickDynamic(min, max, taken, random);
      if (v === null) return { ok: false, reason: 'dynamic port selection failed' };
      taken.add(v);
      dynamic.push({ ...p, Value: v });
    }
    networks.push({ ...net, IP: ip, ReservedPorts: reserved, DynamicPorts: dynamic });
    for (const p of [...reserved, ...dynamic]) {
      // `to = -1` asks for the host port's own number inside the task (Nomad's convention).
      ports.push({ Label: p.Label, Value: p.Value, To: p.To === -1 ? p.Value : p.To, HostIP: ip });
    }
  }
  return { ok: true, value: { networks, ports } };
}

function pickDynamic(min: number, max: number, taken: Set<number>, random: () => number): number | null {
  const span = max - min + 1;
  if (span <= 0) return null;
  for (let i = 0; i < MAX_RAND_PORT_ATTEMPTS; i++) {
    const v = min + Math.floor(random() * span);
    if (!taken.has(v)) return v;
  }
  // A crowded range: scan from a random offset so the first free port is still not always the lowest.
  const start = Math.floor(random() * span);
  for (let i = 0; i < span; i++) {
    const v = min + ((start + i) % span);
    if (!taken.has(v)) return v;
  }
  return null;
}
