import type { HeaderField } from './client-contract.js';
import type { ResponseCapture } from './stored-response.js';

/** Set once this thread drains (closeConnectionsFromNowOn): every head it writes from then on says Connection: close. */
let closing = false;
/** Set at the drain's deadline (cutConnections), before the thread closes its clients' connections. */
let cut = false;
const CONNECTION_CLOSE: readonly HeaderField[] = ['connection', 'close'];
const CONTENT_LENGTH = 'content-length';

/**
 * The thread drains: every answer from now on tells its client to close the connection after it
 * (those whose head went out already cannot), so clients on kept-alive connections move off them
 * (to be refused: nothing listens any more), and the drain ends once what is in flight is answered.
 * Without it a client sending on and on kept the drain open to its deadline, which cut requests
 * already sent to their nodes.
 */
export function closeConnectionsFromNowOn(): void {
  closing = true;
}

/** Whether this thread drains: its answers close their connections. */
export function connectionsClosing(): boolean {
  return closing;
}

/**
 * How long past the drain's deadline the thread reads on the answers of keyed writes whose
 * clients it cut (keyedReadsOn), before it closes their nodes' connections. Such an answer is at
 * most GATEWAY_IDEMPOTENCY_MAX_RESPONSE_BYTES (1 MiB at most), and one its client's push-back
 * paused mostly waits in the connection already: read in milliseconds. A second more lets a node
 * still sending its end at a modest pace finish, while the drain's overrun stays small and known
 * (the coordinator waits 5 s past the deadline for its threads). The gateway's timeouts do not
 * fit: GATEWAY_UPSTREAM_TIMEOUT_MS is 30 s by default (a whole Kubernetes termination grace
 * period), and a route's perTryTimeoutMs, when it has one, times only the head.
 */
export const KEYED_READ_ON_MS = 1000;

/** Keyed writes whose clients left while they waited for a connection (read-on.ts): how to end each if still unsent. */
const unsentKeyed = new Set<() => void>();

/**
 * The drain's deadline passed: a keyed write reads on only what its key can keep (keyedReadsOn),
 * and one that still waits for a connection is not sent (nor one a connection has not written yet:
 * UpstreamPools.cutUnwritten).
 */
export function cutConnections(): void {
  cut = true;
  for (const stop of unsentKeyed) stop();
  unsentKeyed.clear();
}

/** A keyed write whose client left waits for a connection: `stop` ends it, if still unsent, at the cut. */
export function keyedUnsent(stop: () => void): void {
  unsentKeyed.add(stop);
}

/** The keyed write of `stop` ended. */
export function keyedEnded(stop: () => void): void {
  unsentKeyed.delete(stop);
}

/**
 * Whether a keyed write whose client left reads its node's answer on, for its key to keep: always
 * before the drain's deadline; after it, only one given a connection (`onConnection`: one still
 * waiting for one is never sent, nor one its connection had not written by the deadline) whose
 * answer still fits a stored one. One too large is not kept anyway (its key is let go, as for any
 * answer that size), so reading it on would only hold the drain.
 */
export function keyedReadsOn(capture: ResponseCapture, onConnection: boolean): boolean {
  return !cut || (onConnection && !capture.overflowed);
}

/**
 * The fields a forwarded head ends with: this client's own (RateLimit-*), then a bodiless
 * answer's Content-Length (`reportedLength`, a HEAD's or a 304's), then Connection: close while
 * the thread drains. Not endWithoutBody(length) for the length: this uWS build then leaves the
 * response pending, and drops the connection when the client's next request comes.
 */
export function lastHeadFields(own: readonly HeaderField[] | null, reportedLength: number | undefined): readonly HeaderField[] | null {
  let fields = own;
  if (reportedLength !== undefined) fields = [...(fields ?? []), CONTENT_LENGTH, String(reportedLength)];
  if (closing) fields = fields === null ? CONNECTION_CLOSE : [...fields, ...CONNECTION_CLOSE];
  return fields;
}
