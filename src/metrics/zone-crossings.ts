import type { MetricsSnapshot } from '../thread-protocol.js';
import { family } from './definitions.js';

/**
 * Requests and bytes one acceptor sent across zones (from the gateway's zone to a node's), in
 * plain arrays indexed by target zone; exported in prom-client's JSON shape like the request
 * recorder's, and summed across threads by the coordinator.
 */
export class ZoneCrossings {
  readonly #from: string;
  readonly #to: string[] = [];
  #requests = new Float64Array(0);
  #bytes = new Float64Array(0);

  constructor(from: string) {
    this.#from = from;
  }

  /** The slot of target zone `to`; a new one the first time a (reloaded) config has a node there. */
  slot(to: string): number {
    const known = this.#to.indexOf(to);
    if (known >= 0) return known;
    this.#to.push(to);
    const requests = new Float64Array(this.#to.length);
    requests.set(this.#requests);
    const bytes = new Float64Array(this.#to.length);
    bytes.set(this.#bytes);
    this.#requests = requests;
    this.#bytes = bytes;
    return this.#to.length - 1;
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
