/**
 * The node pools' timeout sweeps: one timer per tick length walks every pool of a thread that has
 * something to time (an h1 pool's connections and queue, an undici pool's queued requests). A
 * timer per pool woke the thread once per pool and tick, so a thousand nodes cost each acceptor a
 * thousand wakes a second (and the coordinator, whose health-check pools tick every 500 ms, two
 * thousand), where one timer costs one.
 */
export interface Swept {
  /** Checks the pool for timeouts; called every tick while it is a member. */
  sweep(): void;
}

/** A sweep's bounds: timeouts are checked every quarter of the shortest, within these. */
const MIN_TICK_MS = 10;
const MAX_TICK_MS = 1_000;

/** The tick of a pool whose shortest timeout is `shortestMs`: a timeout fires at most a quarter of it late. */
export function sweepTickMs(shortestMs: number): number {
  return Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, shortestMs / 4));
}

interface Sweep {
  readonly timer: NodeJS.Timeout;
  readonly members: Set<Swept>;
}

/** This thread's sweeps, by tick length. */
const sweeps = new Map<number, Sweep>();

/** `member` is swept every `tickMs` (its first sweep may come at once) until it leaves. */
export function joinSweep(tickMs: number, member: Swept): void {
  let sweep = sweeps.get(tickMs);
  if (sweep === undefined) {
    const members = new Set<Swept>();
    // A member that leaves during the walk (its last connection closed) is skipped from then on.
    const timer = setInterval(() => {
      for (const swept of members) swept.sweep();
    }, tickMs);
    timer.unref();
    sweep = { timer, members };
    sweeps.set(tickMs, sweep);
  }
  sweep.members.add(member);
}

/** `member` is swept no more (nothing if it was not a member); the last to leave stops the timer. */
export function leaveSweep(tickMs: number, member: Swept): void {
  const sweep = sweeps.get(tickMs);
  if (sweep === undefined || !sweep.members.delete(member) || sweep.members.size > 0) return;
  clearInterval(sweep.timer);
  sweeps.delete(tickMs);
}
