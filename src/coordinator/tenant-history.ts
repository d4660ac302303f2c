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

/** A row: HISTORY_WINDOWS scores (NaN for none yet), then as many k. */
const ROW = 2 * HISTORY_WINDOWS;
/** Rows per array (512 KB): growing adds one, so nothing is copied and little is held spare. */
const CHUNK_ROWS = 1024;

/**
 * Every tracked tenant's scores and k by window, one ring per row, written in place each window.
 * A tenant takes a row when first tracked and releases it when it goes, for the next new tenant:
 * under churn (thousands of new tenants a window), a typed array per new tenant took over a third
 * of a tick, allocated and collected. Nothing is allocated per window or per tenant once there
 * are rows for the most tenants ever tracked at once (kept from then on).
 */
export class TenantHistories {
  readonly #chunks: Float64Array[] = [];
  /** Released rows, taken again before any new one. */
  readonly #free: number[] = [];
  /** Rows handed out so far, released ones included. */
  #used = 0;

  take(): number {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    if (this.#used % CHUNK_ROWS === 0) this.#chunks.push(new Float64Array(CHUNK_ROWS * ROW));
    return this.#used++;
  }

  /** The row's entries are not cleared: a tenant reads only the windows it recorded itself. */
  release(row: number): void {
    this.#free.push(row);
  }

  record(row: number, window: number, score: number | null, k: number): void {
    const chunk = this.#chunks[Math.floor(row / CHUNK_ROWS)]!;
    const i = (row % CHUNK_ROWS) * ROW + (window % HISTORY_WINDOWS);
    chunk[i] = score ?? NaN;
    chunk[i + HISTORY_WINDOWS] = k;
  }

  /** The row's windows from `first` (the tenant's first) to `last` (its latest recorded), at most HISTORY_WINDOWS of them, oldest first. */
  entries(row: number, first: number, last: number, times: WindowTimes): WindowEntry[] {
    const chunk = this.#chunks[Math.floor(row / CHUNK_ROWS)]!;
    const entries: WindowEntry[] = [];
    for (let window = Math.max(first, last - HISTORY_WINDOWS + 1); window <= last; window++) {
      const i = (row % CHUNK_ROWS) * ROW + (window % HISTORY_WINDOWS);
      const score = chunk[i]!;
      entries.push({ window, at: times.at(window), score: Number.isNaN(score) ? null : score, k: chunk[i + HISTORY_WINDOWS]! });
    }
    return entries;
  }
}
