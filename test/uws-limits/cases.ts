/**
 * Request heads that uWebSockets.js 20.30 (@trufflesuite/uws-js-unofficial 20.30.0-unofficial.0)
 * mishandles, each with what the gateway does with it on that build, as measured. Shared by
 * `npm run check:uws` (check.ts) and test/integration/uws-limits.test.ts, so that a new uWS build
 * is judged against exactly the pinned behaviour.
 *
 * Two rules of that build explain most cases. A head that is not complete in its first read waits
 * in a 4096-byte buffer: it is closed at once when that buffer fills without holding a parseable
 * head. A head uWS cannot parse (HTTP/1.0, 49 header lines, obs-fold, no header line) looks
 * incomplete to it: under 4096 bytes it is held, unanswered, until the idle timeout closes the
 * connection. No JavaScript runs for the unanswered cases, except for a bad Content-Length.
 * Nothing unanswered is forwarded. The one-read cases show the same heads answered when whole.
 */

/** How the bytes go out: in one write, or in segments that arrive in separate reads. */
export type Sending = { readonly kind: 'one-write' } | { readonly kind: 'segments'; readonly size: number };

export type Pinned =
  /**
   * Answered with `status`; `forwarded` when the backend saw the request, with `headers` (null: the
   * header absent) among those it got, when given.
   */
  | { readonly kind: 'answered'; readonly status: number; readonly forwarded: boolean; readonly headers?: Readonly<Record<string, string | null>> }
  /** Closed without a byte of answer within CLOSED_AT_ONCE_MS of the last write, not forwarded. */
  | { readonly kind: 'closed-at-once' }
  /** No answer and not forwarded; held open until uWS's idle timeout closes it (IDLE_CLOSE_MS). */
  | { readonly kind: 'idle-close' };

export interface UwsCase {
  readonly name: string;
  /** The request, latin1; its target is casePath(name), so the backend's record shows if it was forwarded. */
  readonly bytes: string;
  readonly sending: Sending;
  readonly pinned: Pinned;
  /** The measured bound, in words. */
  readonly bound: string;
}

/** Route prefix of every case's target; the gateway under test sends it to the recording backend. */
export const CASE_PREFIX = '/u/';

/** Pause after each awaited segment write, so that segments arrive in separate reads. */
export const SEGMENT_GAP_MS = 20;

/** Measured: about 10 ms. The slack absorbs a loaded 2-core machine. */
export const CLOSED_AT_ONCE_MS = 1_000;

/**
 * uWS closes a connection without a complete head 10 s after it opened, counted in the 4 s ticks
 * of uSockets' timer sweep: measured 8.2–12.0 s after connect. The slack absorbs late timers.
 */
export const IDLE_CLOSE_MS = { min: 7_500, max: 13_500 } as const;

/** An observation ends here at the latest: later than any pinned close. */
export const OBSERVE_MS = 16_000;

export const casePath = (name: string): string => `${CASE_PREFIX}${name}`;

/** A request head to the case's path: the request line, the given header lines, the blank line. */
function head(name: string, lines: readonly string[], version = '1.1', method = 'GET'): string {
  return `${method} ${casePath(name)} HTTP/${version}\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`;
}

/** A GET head of exactly `size` bytes: Host and one filler header. */
const headOfSize = (size: number) => (name: string): string => {
  const bare = head(name, ['Host: a', 'X-Fill: ']);
  return head(name, ['Host: a', `X-Fill: ${'f'.repeat(size - bare.length)}`]);
};

/** A GET head with `count` header lines (Host and fillers; the request line not counted). */
const headWithLines = (count: number, firstFillerBytes = 1) => (name: string): string => {
  const fillers = Array.from({ length: count - 1 }, (_, i) => `X-H${i}: ${'v'.repeat(i === 0 ? firstFillerBytes : 1)}`);
  return head(name, ['Host: a', ...fillers]);
};

/** A POST head with the given header lines after Host, followed by `body`. */
const post = (lines: readonly string[], body: string) => (name: string): string => head(name, ['Host: a', ...lines], '1.1', 'POST') + body;

const oneWrite: Sending = { kind: 'one-write' };
const segments = (size: number): Sending => ({ kind: 'segments', size });
const answered = (status: number, forwarded: boolean): Pinned => ({ kind: 'answered', status, forwarded });
const forwardedWith = (headers: Record<string, string | null>): Pinned => ({ kind: 'answered', status: 200, forwarded: true, headers });
const closedAtOnce: Pinned = { kind: 'closed-at-once' };
const idleClose: Pinned = { kind: 'idle-close' };

const uwsCase = (name: string, bytes: (name: string) => string, sending: Sending, pinned: Pinned, bound: string): UwsCase => ({
  name,
  bytes: bytes(name),
  sending,
  pinned,
  bound,
});

const SPLIT =
  'a head not complete in its first read is answered up to 4096 bytes (request line through the blank line), ' +
  'whatever the segment size; from 4097 bytes the connection is closed at the read that fills 4096 bytes ' +
  '(the 3rd of 1400-byte segments; the 1st when it alone is 4096 bytes or more)';
const ONE_READ =
  'a head complete in its first read is parsed whatever its size (bare uWS answered 100,000 bytes), so ' +
  'GATEWAY_MAX_HEADER_BYTES (16384 here) decides: up to it forwarded, above it 431';
const LINES =
  'up to 48 header lines are answered, from 49 not (the request line not counted): under 4096 bytes the head ' +
  'is held unanswered until the idle close, from 4096 bytes it is closed at once';
const UNPARSEABLE = 'held unanswered until the idle close, 8–12 s after connect; from 4096 bytes closed at once';
const CONTENT_LENGTH =
  'uWS accepts 1 to 9 ASCII digits; for anything else it calls the handler, then closes the connection as the ' +
  'handler returns, discarding the answer written (the gateway writes 400 or 413)';
const EMPTY_NAME =
  'a header line with an empty name (": x") ends the head for uWS: the lines after it are ignored, Content-Length ' +
  'and Transfer-Encoding too, so a body after them is read as the next request (a front proxy must refuse such lines)';
const EXPECT =
  'uWS answers "100 Continue" to Expect: 100-continue before any handler runs: the client sends its body even when ' +
  'the gateway refuses the request (here 413, answered once the body is read and dropped)';
const METHODS =
  'only GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, CONNECT and TRACE reach a handler (the gateway refuses the ' +
  'last two); any other token (WebDAV\'s PROPFIND, PURGE, a lower-case get) is closed at once, before any handler runs';

export const CASES: readonly UwsCase[] = [
  // 1. Heads that arrive in more than one read.
  uwsCase('split-4096-in-1400-byte-segments', headOfSize(4096), segments(1400), answered(200, true), SPLIT),
  uwsCase('split-4097-in-1400-byte-segments', headOfSize(4097), segments(1400), closedAtOnce, SPLIT),
  uwsCase('split-4097-in-2-reads', headOfSize(4097), segments(4000), closedAtOnce, SPLIT),
  uwsCase('split-16384-in-1400-byte-segments', headOfSize(16384), segments(1400), closedAtOnce, SPLIT),
  uwsCase('one-read-16384', headOfSize(16384), oneWrite, answered(200, true), ONE_READ),
  uwsCase('one-read-16385', headOfSize(16385), oneWrite, answered(431, false), ONE_READ),
  // 2. Header lines.
  uwsCase('header-lines-48', headWithLines(48), oneWrite, answered(200, true), LINES),
  uwsCase('header-lines-49', headWithLines(49), oneWrite, idleClose, LINES),
  uwsCase('header-lines-49-over-4-kib', headWithLines(49, 4200), oneWrite, closedAtOnce, LINES),
  // 3. HTTP/1.0.
  uwsCase('http-1.0', (name) => head(name, ['Host: a'], '1.0'), oneWrite, idleClose, `any request line not ending in " HTTP/1.1" is ${UNPARSEABLE}`),
  // 4. Malformed heads.
  uwsCase('content-length-with-transfer-encoding', post(['Content-Length: 3', 'Transfer-Encoding: chunked'], '3\r\nabc\r\n0\r\n\r\n'), oneWrite, closedAtOnce, 'closed at once, before any handler runs'),
  uwsCase('no-host', (name) => head(name, ['X-A: b']), oneWrite, closedAtOnce, 'with other header lines: closed at once, before any handler runs'),
  uwsCase('no-header-lines', (name) => head(name, []), oneWrite, idleClose, `a request line alone cannot be parsed: ${UNPARSEABLE}`),
  uwsCase('obs-fold', (name) => head(name, ['Host: a', 'X-A: b', ' c']), oneWrite, idleClose, `as is any other malformed header line: ${UNPARSEABLE}`),
  uwsCase('content-length-not-a-number', post(['Content-Length: 3x'], 'abc'), oneWrite, closedAtOnce, CONTENT_LENGTH),
  uwsCase('content-length-10-digits', post(['Content-Length: 1000000000'], 'abc'), oneWrite, closedAtOnce, CONTENT_LENGTH),
  // Targets that are not a path ("*", absolute-form): no route of uWS matches them, not even "*".
  uwsCase('asterisk-target', (name) => head(name, ['Host: a']).replace(casePath(name), '*'), oneWrite, idleClose, `a target not starting with "/" reaches no handler: ${UNPARSEABLE}`),
  uwsCase('absolute-form-target', (name) => head(name, ['Host: a']).replace(casePath(name), `http://a${casePath(name)}`), oneWrite, idleClose, `likewise: ${UNPARSEABLE}`),
  // 5. A header line uWS reads in its own way; a 100 Continue the gateway cannot hold back.
  uwsCase('header-line-with-empty-name', (name) => head(name, ['Host: a', 'X-Before: b', ': x', 'X-After: a']), oneWrite, forwardedWith({ 'x-before': 'b', 'x-after': null }), EMPTY_NAME),
  uwsCase('expect-100-continue-refused', post(['Expect: 100-continue', 'Content-Length: 999999999'], ''), oneWrite, answered(100, false), EXPECT),
  // 6. Methods.
  uwsCase('method-propfind', (name) => head(name, ['Host: a'], '1.1', 'PROPFIND'), oneWrite, closedAtOnce, METHODS),
  uwsCase('method-lower-case-get', (name) => head(name, ['Host: a'], '1.1', 'get'), oneWrite, closedAtOnce, METHODS),
];
