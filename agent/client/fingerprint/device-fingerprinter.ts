/**
 * The seam for device plugins (GPUs first): each finds devices of one kind and reports them
 * as `NodeResources.Devices` groups plus node attributes. `fingerprintHost` runs the ones it
 * is given, in parallel with the rest, and a failing one costs only its own devices.
 */
import type { NodeDeviceResource } from '../../../structs/resources.js';

export interface DeviceFingerprint {
  devices: NodeDeviceResource[];
  /** Node attributes without the `attr.` prefix, e.g. `{ 'device.nvidia.driver.version': '550.54' }`. */
  attributes: Record<string, string>;
}

export interface DeviceFingerprinter {
  /** Short name for messages, e.g. "nvidia-gpu". */
  readonly name: string;
  fingerprint(): Promise<DeviceFingerprint>;
}
