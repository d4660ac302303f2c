/**
 * Each tracked tenant's last HISTORY_WINDOWS scoring windows, for GET /tenants/<id>: a reader that
 * polls less often than windows close still sees every window. The tracker visits every tracked
 * tenant at every tick, so a tenant's windows run without gaps from the one it was first seen in,
 * and the windows' tick times can be kept once for all tenants.
 */
export const HISTORY_WINDOWS = 32;

export interface WindowEntry {
  readonly window: number;
  /** Wall time of the window's tick, epoch ms. */
  readonly at: number;
  /** The smoothed score after this window; null before the tenant's first window with requests. */
  readonly score: number | null;
  readonly k: number;
}

/** Tick times of the last HISTORY_WINDOWS windows, by window number. */
export class WindowTimes {
  readonly #at = new Float64Array(HISTORY_WINDOWS);

  record(window: number, at: number): void {
    this.#at[window % HISTORY_WINDOWS] = at;
  }

  at(window: number): number {
    return this.#at[window % HISTORY_WINDOWS]!;
  }
}

/**
 * One tenant's score and k by window, in a ring allocated once when the tenant is first tracked
 * and written in place each window: with up to GATEWAY_MAX_TENANTS tenants, nothing per window.
 */
export class TenantHistory {
  /** Scores (NaN for none yet), then k: one array per tenant. */
  readonly #entries = new Float64Array(2 * HISTORY_WINDOWS);
  readonly #first: number;
  #last: number;

  constructor(firstWindow: number) {
    this.#first = firstWindow;
    this.#last = firstWindow - 1;
  }

  record(window: number, score: number | null, k: number): void {
    const i = window % HISTORY_WINDOWS;
    this.#entries[i] = score ?? NaN;
    this.#entries[HISTORY_WINDOWS + i] = k;
    this.#last = window;
  }

  /** Oldest first. */
  entries(times: WindowTimes): WindowEntry[] {
    const entries: WindowEntry[] = [];
    for (let window = Math.max(this.#first, this.#last - HISTORY_WINDOWS + 1); window <= this.#last; window++) {
      const i = window % HISTORY_WINDOWS;
      const score = this.#entries[i]!;
      entries.push({ window, at: times.at(window), score: Number.isNaN(score) ? null : score, k: this.#entries[HISTORY_WINDOWS + i]! });
    }
    return entries;
  }
}
