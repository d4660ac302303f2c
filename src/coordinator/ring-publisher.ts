import { Piscina } from 'piscina';
import { buildRing, type Hash32, type RingData, type RingMember } from '../routing/ring.js';
import { publishRing } from '../shm/ring-buffer.js';
import type { ClusterRing } from './rings.js';

/**
 * Rings of more points than this are built on a piscina worker: measured, a build takes about
 * 1 ms per 1,500 points here, so this keeps the coordinator's event loop (health checks, admin
 * API, metrics) from stalling more than ~10 ms; a 1,000-node fleet (150,000 points) takes ~140 ms.
 */
export const POOL_BUILD_POINTS = 15_000;

const WORKER_URL = new URL('./ring-build-worker.js', import.meta.url);

/**
 * Builds and publishes a cluster's ring: small ones at once, large ones on a worker. One build per
 * cluster at a time; a request that comes while one runs replaces any queued one, so the latest
 * wanted ring is always the one published last.
 */
export class RingPublisher {
  readonly #hash32: Hash32;
  readonly #poolBuildPoints: number;
  #pool: Piscina | null = null;
  /** Each ring being built on a worker: its build loop, done once the last ring queued is installed. */
  readonly #building = new Map<ClusterRing, Promise<void>>();
  readonly #queued = new Map<ClusterRing, readonly RingMember[]>();

  constructor(hash32: Hash32, poolBuildPoints = POOL_BUILD_POINTS) {
    this.#hash32 = hash32;
    this.#poolBuildPoints = poolBuildPoints;
  }

  /**
   * Publishes `members` into `ring`; resolves once that ring (or a later one) is what acceptors
   * read. A small ring is installed before this returns (nothing is awaited before it), and so is
   * any `inline` one that no worker is building.
   */
  async publish(ring: ClusterRing, members: readonly RingMember[], points: number, inline = false): Promise<void> {
    const building = this.#building.get(ring);
    if (building !== undefined) {
      this.#queued.set(ring, members);
      return building;
    }
    if (inline || points <= this.#poolBuildPoints) {
      this.#install(ring, buildRing(members, this.#hash32));
      return;
    }
    const loop = this.#buildLoop(ring, members).finally(() => this.#building.delete(ring));
    this.#building.set(ring, loop);
    return loop;
  }

  /** Resolves once no build of `ring` runs: the ring acceptors read is the last one asked for. */
  settled(ring: ClusterRing): Promise<void> {
    return this.#building.get(ring) ?? Promise.resolve();
  }

  async #buildLoop(ring: ClusterRing, members: readonly RingMember[]): Promise<void> {
    let next: readonly RingMember[] | undefined = members;
    while (next !== undefined) {
      this.#queued.delete(ring);
      this.#install(ring, (await this.#workers().run(next)) as RingData);
      next = this.#queued.get(ring);
    }
  }

  async close(): Promise<void> {
    await this.#pool?.destroy();
    this.#pool = null;
  }

  #install(ring: ClusterRing, data: RingData): void {
    publishRing(ring.shared, data);
    ring.data = data;
  }

  /** Started on first use: most gateways never build a ring this large. */
  #workers(): Piscina {
    return (this.#pool ??= new Piscina({ filename: WORKER_URL.href, minThreads: 0, maxThreads: 1, idleTimeout: 30_000 }));
  }
}
