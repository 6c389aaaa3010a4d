/** `yurt node status` output, laid out as Nomad's `nomad node status`. */
import { allocStub, isAllocTerminal } from '../../structs/alloc.js';
import type { Allocation } from '../../structs/alloc.js';
import type { Node, NodeListStub } from '../../structs/node.js';
import { formatAllocListStubs } from './job-view.js';
import { formatKV, formatList, limit } from './table.js';
import type { Row } from './table.js';
import { formatTaskTime, formatUnixNano } from './time.js';
import { humanizeIBytes, mbToBytes } from './units.js';

export function formatNodeList(nodes: readonly NodeListStub[], verbose: boolean): string {
  if (nodes.length === 0) return 'No nodes registered';
  const idLen = verbose ? 36 : 8;
  const rows: Row[] = [
    verbose
      ? ['ID', 'Node Pool', 'DC', 'Name', 'Class', 'Address', 'Version', 'Drain', 'Eligibility', 'Status']
      : ['ID', 'Node Pool', 'DC', 'Name', 'Class', 'Drain', 'Eligibility', 'Status'],
  ];
  for (const n of nodes) {
    rows.push(
      verbose
        ? [limit(n.ID, idLen), n.NodePool, n.Datacenter, n.Name, n.NodeClass, n.Address, n.Version, n.Drain, n.SchedulingEligibility, n.Status]
        : [limit(n.ID, idLen), n.NodePool, n.Datacenter, n.Name, n.NodeClass, n.Drain, n.SchedulingEligibility, n.Status],
    );
  }
  return formatList(rows);
}

/** Drivers that are detected and healthy, comma-separated, as Nomad's "Drivers" line. */
function healthyDrivers(node: Node): string {
  return Object.entries(node.Drivers ?? {})
    .filter(([, d]) => d.Detected && d.Healthy)
    .map(([name]) => name)
    .sort()
    .join(',');
}

/** Used/total of what the scheduler can hand out: node resources minus the reserved part. */
export function formatAllocatedResources(node: Node, allocs: readonly Allocation[]): string {
  let cpu = 0;
  let mem = 0;
  let disk = 0;
  for (const a of allocs) {
    if (isAllocTerminal(a)) continue;
    for (const t of Object.values(a.AllocatedResources?.Tasks ?? {})) {
      cpu += t.Cpu.CpuShares;
      mem += t.Memory.MemoryMB;
    }
    disk += a.AllocatedResources?.Shared?.DiskMB ?? 0;
  }
  const nr = node.NodeResources;
  const rr = node.ReservedResources;
  const totalCpu = (nr?.Cpu.CpuShares ?? 0) - (rr?.Cpu.CpuShares ?? 0);
  const totalMem = (nr?.Memory.MemoryMB ?? 0) - (rr?.Memory.MemoryMB ?? 0);
  const totalDisk = (nr?.Disk.DiskMB ?? 0) - (rr?.Disk.DiskMB ?? 0);
  return formatList([
    ['CPU', 'Memory', 'Disk'],
    [
      `${cpu}/${totalCpu} MHz`,
      `${humanizeIBytes(mbToBytes(mem))}/${humanizeIBytes(mbToBytes(totalMem))}`,
      `${humanizeIBytes(mbToBytes(disk))}/${humanizeIBytes(mbToBytes(totalDisk))}`,
    ],
  ]);
}

function formatKVMap(m: Record<string, string>): string {
  const keys = Object.keys(m).sort();
  return keys.length === 0 ? '<none>' : formatKV(keys.map((k) => [k, m[k] ?? ''] as const));
}

/**
 * Nomad's "Device Group Attributes" (node status -verbose): one block per device group,
 * named vendor/type/name, its attributes sorted; groups without attributes are left out.
 */
export function formatDeviceAttributes(node: Node): string {
  const groups = [...(node.NodeResources?.Devices ?? [])]
    .map((d) => ({ id: `${d.Vendor}/${d.Type}/${d.Name}`, attrs: d.Attributes ?? {} }))
    .filter((d) => Object.keys(d.attrs).length > 0)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return groups
    .map((d) => {
      const keys = Object.keys(d.attrs).sort();
      return formatKV([['Device Group', d.id], ...keys.map((k) => [k, d.attrs[k] ?? ''] as const)]);
    })
    .join('\n\n');
}

export function formatNodeDetail(node: Node, allocs: readonly Allocation[], opts: { verbose: boolean; nowMs: number }): string {
  const idLen = opts.verbose ? 36 : 8;
  const sections = [
    formatKV([
      ['ID', limit(node.ID, idLen)],
      ['Name', node.Name],
      ['Node Pool', node.NodePool],
      ['Class', node.NodeClass],
      ['DC', node.Datacenter],
      ['Drain', node.Drain],
      ['Eligibility', node.SchedulingEligibility],
      ['Status', node.Status],
      ['HTTP Address', node.HTTPAddr],
      ['Drivers', healthyDrivers(node)],
    ]),
  ];
  const events: Row[] = [['Time', 'Subsystem', 'Message']];
  for (const e of [...(node.Events ?? [])].reverse()) events.push([formatUnixNano(e.Timestamp), e.Subsystem, e.Message]);
  sections.push(`Node Events\n${formatList(events)}`);
  sections.push(`Allocated Resources\n${formatAllocatedResources(node, allocs)}`);
  if (opts.verbose) {
    const drivers: Row[] = [['Driver', 'Detected', 'Healthy', 'Message', 'Time']];
    for (const name of Object.keys(node.Drivers ?? {}).sort()) {
      const d = node.Drivers[name];
      // The API sends Nomad's RFC 3339 time; older yurt servers sent Unix nanoseconds.
      const updated: unknown = d?.UpdateTime;
      if (d !== undefined) drivers.push([name, d.Detected, d.Healthy, d.HealthDescription, typeof updated === 'string' ? formatTaskTime(updated) : formatUnixNano(d.UpdateTime)]);
    }
    sections.push(`Drivers\n${formatList(drivers)}`);
  }
  sections.push(`Allocations\n${formatAllocListStubs(allocs.map(allocStub), opts.verbose, idLen, opts.nowMs)}`);
  if (opts.verbose) {
    sections.push(`Attributes\n${formatKVMap(node.Attributes ?? {})}`);
    const devices = formatDeviceAttributes(node);
    if (devices !== '') sections.push(`Device Group Attributes\n${devices}`);
    sections.push(`Meta\n${formatKVMap(node.Meta ?? {})}`);
  }
  return sections.join('\n\n');
}
