/**
 * network and service blocks. A `port "label"` with `static` becomes a reserved port, any
 * other a dynamic one, as in Nomad's API (`ReservedPorts` / `DynamicPorts`).
 */
import type { Service, ServiceCheck } from '../job.js';
import type { NetworkResource, Port } from '../resources.js';
import type { Input } from '../job-defaults.js';
import type { BodyReader } from './body-reader.js';
import { evaluateValue } from './interpolation.js';

export function decodeNetworks(parent: BodyReader, field = 'Networks'): Array<Input<NetworkResource>> {
  return parent.blocks('network', []).map((b, i) => {
    const path = parent.field(`${field}[${i}]`);
    const r = parent.child(b, path);
    const net: Input<NetworkResource> = {
      Mode: r.string('mode', 'Mode'),
      MBits: r.number('mbits', 'MBits'),
      ReservedPorts: [],
      DynamicPorts: [],
    };
    for (const pb of r.blocks('port', ['label'])) {
      const kind = isStatic(pb.body.attrs.find((a) => a.name === 'static')?.value, r) ? 'ReservedPorts' : 'DynamicPorts';
      const list = net[kind] ?? [];
      const pr = r.child(pb, `${path}.${kind}[${list.length}]`);
      const port: Input<Port> = {
        Label: pb.labels[0] ?? '',
        Value: pr.number('static', 'Value'),
        To: pr.number('to', 'To'),
        HostNetwork: pr.string('host_network', 'HostNetwork'),
      };
      pr.finish();
      list.push(port);
    }
    r.finish();
    return net;
  });
}

/** Whether a port's `static` value is set to a port number (read leniently; errors come later). */
function isStatic(raw: unknown, r: BodyReader): boolean {
  if (raw === undefined) return false;
  try {
    const v = evaluateValue(raw, r.ctx.vars);
    return Number(v) > 0;
  } catch {
    return false;
  }
}

export function decodeServices(parent: BodyReader): Array<Input<Service>> {
  return parent.blocks('service', []).map((b, i) => {
    const path = parent.field(`Services[${i}]`);
    const r = parent.child(b, path);
    const s: Input<Service> = {
      Name: r.string('name', 'Name'),
      PortLabel: r.string('port', 'PortLabel'),
      Provider: r.string('provider', 'Provider'),
      Tags: r.stringList('tags', 'Tags'),
      Checks: r.blocks('check', []).map((cb, j) => {
        const cr = r.child(cb, `${path}.Checks[${j}]`);
        const c: Input<ServiceCheck> = {
          Name: cr.string('name', 'Name'),
          Type: cr.string('type', 'Type'),
          Command: cr.string('command', 'Command'),
          Args: cr.stringList('args', 'Args'),
          Path: cr.string('path', 'Path'),
          Protocol: cr.string('protocol', 'Protocol'),
          PortLabel: cr.string('port', 'PortLabel'),
          Interval: cr.duration('interval', 'Interval'),
          Timeout: cr.duration('timeout', 'Timeout'),
        };
        cr.finish();
        return c;
      }),
    };
    r.finish();
    return s;
  });
}
