import type { GatewayConfig } from '../config/load.js';
import type { MetricFamily, MetricsSnapshot } from '../thread-protocol.js';
import { METRICS, type MetricName } from './definitions.js';

/**
 * Requests and bytes one acceptor sent across zones (from the gateway's zone to a node's), in
 * plain arrays indexed by target zone; exported in prom-client's JSON shape like the request
 * recorder's, and summed across threads by the coordinator.
 */
export class ZoneCrossings {
  readonly #from: string;
  readonly #to: readonly string[];
  readonly #requests: Float64Array;
  readonly #bytes: Float64Array;

  constructor(from: string, to: readonly string[]) {
    this.#from = from;
    this.#to = to;
    this.#requests = new Float64Array(to.length);
    this.#bytes = new Float64Array(to.length);
  }

  record(zone: number, bytes: number): void {
    this.#requests[zone]!++;
    this.#bytes[zone]! += bytes;
  }

  snapshot(): MetricsSnapshot {
    const requests = family('ringgate_zone_crossings_total');
    const bytes = family('ringgate_zone_crossing_bytes_total');
    this.#to.forEach((to, i) => {
      if (this.#requests[i] === 0) return;
      requests.values.push({ labels: { from: this.#from, to }, value: this.#requests[i]! });
      bytes.values.push({ labels: { from: this.#from, to }, value: this.#bytes[i]! });
    });
    return [requests, bytes];
  }
}

function family(name: MetricName): MetricFamily {
  const def = METRICS[name];
  return { name, help: def.help, type: def.type, values: [], aggregator: 'sum' };
}

/** Zones other than the gateway's that nodes of `config` live in, in a stable order; none without GATEWAY_ZONE. */
export function otherZones(config: GatewayConfig): string[] {
  const zone = config.settings.zone;
  if (zone === undefined) return [];
  const zones = new Set(Object.values(config.clusters).flatMap((cluster) => cluster.nodes.map((node) => node.az)));
  zones.delete(zone);
  return [...zones].sort();
}
