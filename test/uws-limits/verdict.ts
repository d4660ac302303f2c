import { CLOSED_AT_ONCE_MS, IDLE_CLOSE_MS, OBSERVE_MS, type Pinned, type UwsCase } from './cases.js';
import type { Observation } from './exchange.js';

export interface Verdict {
  /** The observation matches what the case pins. */
  readonly ok: boolean;
  readonly pinned: string;
  readonly observed: string;
}

/** Judges one case: what `observation` (and whether the backend saw the request) shows against its pin. */
export function judge(c: UwsCase, observation: Observation, forwarded: boolean): Verdict {
  const seen = classify(observation, forwarded);
  return { ok: seen !== null && same(seen, c.pinned), pinned: describePin(c.pinned), observed: describeObservation(observation, forwarded) };
}

/** The pinned behaviour the observation shows, or null when it shows none of them. */
function classify(o: Observation, forwarded: boolean): Pinned | null {
  if (o.status !== null) return { kind: 'answered', status: o.status, forwarded };
  if (o.bytes > 0 || forwarded) return null;
  if (o.closedAfterSendMs !== null && o.closedAfterSendMs <= CLOSED_AT_ONCE_MS) return { kind: 'closed-at-once' };
  const after = o.closedAfterConnectMs;
  if (after !== null && after >= IDLE_CLOSE_MS.min && after <= IDLE_CLOSE_MS.max) return { kind: 'idle-close' };
  return null;
}

function same(a: Pinned, b: Pinned): boolean {
  if (a.kind === 'answered' && b.kind === 'answered') return a.status === b.status && a.forwarded === b.forwarded;
  return a.kind === b.kind;
}

const seconds = (ms: number, digits = 1): string => `${(ms / 1000).toFixed(digits)} s`;

function describePin(p: Pinned): string {
  switch (p.kind) {
    case 'answered':
      return `answered ${p.status}, ${p.forwarded ? 'forwarded' : 'not forwarded'}`;
    case 'closed-at-once':
      return `closed without answer within ${seconds(CLOSED_AT_ONCE_MS)}, not forwarded`;
    case 'idle-close':
      return `no answer until closed ${seconds(IDLE_CLOSE_MS.min)}–${seconds(IDLE_CLOSE_MS.max)} after connect, not forwarded`;
  }
}

function describeObservation(o: Observation, forwarded: boolean): string {
  const wasForwarded = forwarded ? 'forwarded' : 'not forwarded';
  if (o.status !== null) return `answered ${o.status}, ${wasForwarded}`;
  const answer = o.bytes > 0 ? `${o.bytes} bytes that are no HTTP response` : 'no answer';
  if (o.closedAfterConnectMs === null || o.closedAfterSendMs === null) return `${answer}, not closed within ${seconds(OBSERVE_MS, 0)} (or not connected), ${wasForwarded}`;
  return `${answer}, closed ${Math.round(o.closedAfterSendMs)} ms after the last write (${seconds(o.closedAfterConnectMs)} after connect), ${wasForwarded}`;
}
