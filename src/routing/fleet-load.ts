/**
 * Tenant load across a fleet (issue 13, redis mode): each instance publishes its tenants' sums of
 * every scoring window, and each coordinator adds the other instances' latest sums to its own
 * window before scoring, so a tenant hot across the fleet gets one score, and so one shard factor,
 * on every instance (routing a tenant by different k on different instances sends it to
 * different nodes from each).
 *
 * No two machines' clocks are ever compared: a publication carries its instance's own window
 * number (its count of windows since it started), and instances are told apart by a random id.
 * Of each instance only the publication with the highest number counts; an older or repeated one
 * read later changes nothing. Its sums count while its number keeps advancing: an instance whose
 * number has not moved over the last STALE_AFTER_WINDOWS of our own windows (more, in proportion,
 * when its windows are longer) has stopped or lost Redis, and is dropped. Its latest window stands
 * for its current one (a rate sample, not an exact count), scaled to our window's length.
 * Pure: the caller passes its window numbers.
 */

/** One tenant's sums over one window; latency as a sum, so merged averages weigh by requests. */
export interface WindowSums {
  readonly requests: number;
  readonly errors5xx: number;
  readonly latencyUs: number;
}

/** What an instance publishes once per window. */
export interface InstanceWindow {
  /** The publisher's window number. */
  readonly window: number;
  /** The publisher's GATEWAY_SCORE_WINDOW_MS. */
  readonly windowMs: number;
  readonly tenants: ReadonlyMap<string, WindowSums>;
}

/** One tenant's window as the tracker harvested it (field names as the tracker keeps them): what its nodes answered. */
export interface LocalTenantWindow {
  readonly id: string;
  readonly windowScoredRequests: number;
  readonly windowErrors5xx: number;
  readonly windowLatencyUs: number;
}

/** The tracker's way to the fleet: other instances' sums in, this instance's window out. */
export interface FleetExchange {
  /** The other instances' sums to add to window `window`'s, by tenant id. */
  remoteSums(window: number): ReadonlyMap<string, WindowSums>;
  /** This instance's window `window`, to share; must not make the caller wait. */
  publish(window: number, tenants: Iterable<LocalTenantWindow>): void;
}

/**
 * Our windows an instance's number may stand still before it is dropped: a publication is read
 * one round trip after it is written, and two instances' windows close at unrelated moments, so
 * a live instance's number, read once per window, sometimes stands still for one.
 */
export const STALE_AFTER_WINDOWS = 3;

interface Remote {
  latest: InstanceWindow;
  /** Our window when its number last advanced, or when it was first seen. */
  movedAt: number;
  /** Whether its number has advanced since we first saw it. */
  live: boolean;
}

export class FleetLoad {
  readonly #windowMs: number;
  readonly #remotes = new Map<string, Remote>();

  /** `windowMs`: our own GATEWAY_SCORE_WINDOW_MS. */
  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** A publication of `instance`, read during our window `ourWindow`. */
  receive(instance: string, published: InstanceWindow, ourWindow: number): void {
    const remote = this.#remotes.get(instance);
    if (remote === undefined) {
      // A first sighting proves nothing: a stopped instance's last publication stays in Redis until it expires.
      this.#remotes.set(instance, { latest: published, movedAt: ourWindow, live: false });
      return;
    }
    if (published.window <= remote.latest.window) return;
    remote.latest = published;
    remote.movedAt = ourWindow;
    remote.live = true;
  }

  /** The instances whose sums count in our window `ourWindow`; those gone stale are forgotten. */
  instances(ourWindow: number): number {
    let fresh = 0;
    for (const [instance, remote] of this.#remotes) {
      if (ourWindow - remote.movedAt > this.#staleAfter(remote.latest)) this.#remotes.delete(instance);
      else if (remote.live) fresh++;
    }
    return fresh;
  }

  /** The fresh instances' latest sums, added up per tenant, for our window `ourWindow`. */
  remoteSums(ourWindow: number): Map<string, WindowSums> {
    const merged = new Map<string, { requests: number; errors5xx: number; latencyUs: number }>();
    if (this.instances(ourWindow) === 0) return merged;
    for (const { latest, live } of this.#remotes.values()) {
      if (!live) continue;
      // Sums per window are rates: a remote's longer window counts for as much as ours would hold.
      const scale = this.#windowMs / latest.windowMs;
      for (const [tenant, sums] of latest.tenants) {
        const into = merged.get(tenant);
        if (into === undefined) {
          merged.set(tenant, { requests: sums.requests * scale, errors5xx: sums.errors5xx * scale, latencyUs: sums.latencyUs * scale });
        } else {
          into.requests += sums.requests * scale;
          into.errors5xx += sums.errors5xx * scale;
          into.latencyUs += sums.latencyUs * scale;
        }
      }
    }
    return merged;
  }

  #staleAfter(published: InstanceWindow): number {
    return Math.ceil(STALE_AFTER_WINDOWS * Math.max(1, published.windowMs / this.#windowMs));
  }
}
