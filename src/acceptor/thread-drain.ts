import type { HeaderField } from './client-contract.js';

/** Set once this thread drains (closeConnectionsFromNowOn): every head it writes from then on says Connection: close. */
let closing = false;
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
