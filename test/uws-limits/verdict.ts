import { CLOSED_AT_ONCE_MS, IDLE_CLOSE_MS, OBSERVE_MS, type Pinned, type UwsCase } from './cases.js';
import type { Observation } from './exchange.js';

export interface Verdict {
  /** The observation matches what the case pins. */
  readonly ok: boolean;
  readonly pinned: string;
  readonly observed: string;
}

/** What the backend got of the request: its headers, null when it never saw it. */
export type HeadersSeen = Readonly<Record<string, string | string[] | undefined>> | null;

/** Judges one case: what `observation` (and what the backend saw of the request) shows against its pin. */
export function judge(c: UwsCase, observation: Observation, seen: HeadersSeen): Verdict {
  const forwarded = seen !== null;
  const shown = classify(observation, forwarded);
  const headersOk = c.pinned.kind !== 'answered' || c.pinned.headers === undefined || sameHeaders(c.pinned.headers, seen);
  const observed = describeObservation(observation, forwarded) + describeHeaders(c.pinned, seen);
  return { ok: shown !== null && same(shown, c.pinned) && headersOk, pinned: describePin(c.pinned), observed };
}

function sameHeaders(pinned: Readonly<Record<string, string | null>>, seen: HeadersSeen): boolean {
  return seen !== null && Object.entries(pinned).every(([name, value]) => (seen[name] ?? null) === value);
}

/** The pinned headers as the backend got them, when the case pins some. */
function describeHeaders(p: Pinned, seen: HeadersSeen): string {
  if (p.kind !== 'answered' || p.headers === undefined || seen === null) return '';
  return `, with ${JSON.stringify(Object.fromEntries(Object.keys(p.headers).map((name) => [name, seen[name] ?? null])))}`;
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
      return `answered ${p.status}, ${p.forwarded ? 'forwarded' : 'not forwarded'}${p.headers === undefined ? '' : `, with ${JSON.stringify(p.headers)}`}`;
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
