import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { LogThrottle, stdoutDestination, type Logger } from '../log.js';
import type { Settings } from '../config/schema.js';
import { ROUTING_REASON_NAMES } from '../routing/routing-reason.js';
import { CLIENT_CLOSED_STATUS, type RequestContext } from './request-context.js';
import type { RequestObserver } from './request-observer.js';

/**
 * Largest write the log makes at once: on a pipe, writes up to PIPE_BUF (4096 bytes on Linux) are
 * atomic, so lines from several acceptor threads sharing stdout never interleave mid-line.
 */
const ATOMIC_WRITE_BYTES = 4096;
/**
 * Lines wait until this many bytes are queued, or FLUSH_MS passed: one write per dozen lines, not
 * per line (each write is a round trip through libuv's thread pool).
 */
const BATCH_BYTES = ATOMIC_WRITE_BYTES - 512;
const FLUSH_MS = 200;
/** Lines queued behind a stdout that stopped taking them: beyond this they are dropped, not kept in memory. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** How long a thread's exit waits for its last lines to be written. */
const FLUSH_AT_EXIT_MS = 1_000;

/** One access-log line's fields (README "Access log"). */
interface AccessLine {
  requestId: string;
  tenant: string | undefined;
  method: string;
  path: string;
  status: number;
  node: string | undefined;
  /** Head bytes plus the request body bytes the client sent (of an upload cut short, what came). */
  bytesIn: number;
  /** Response body bytes handed to the client. */
  bytesOut: number;
  /** From the last try's dispatch to its answer's head; absent without a node answer. */
  upstreamMs: number | undefined;
  totalMs: number;
  reason: string | undefined;
  retries: number | undefined;
  code: string | undefined;
}

/**
 * The access log of one acceptor thread: a JSON line per request (pino) on stdout, written
 * asynchronously (pino's SonicBoom destination with `sync: false`: the event loop hands each batch
 * of lines to libuv and goes on; lines queue while a write is out). Errors (5xx, an ERR_ code, a
 * client that left) are always logged; the rest are sampled, or skipped in `errors` mode.
 */
export class AccessLog implements RequestObserver {
  readonly #log: Logger;
  readonly #destination: ReturnType<typeof pino.destination>;
  readonly #errorsOnly: boolean;
  readonly #sample: number;
  readonly #random: () => number;
  /** The last write to stdout failed (and none went through since). */
  #failing = false;

  constructor(settings: Readonly<Pick<Settings, 'accessLog' | 'accessLogSample'>>, log: Logger, random: () => number = Math.random) {
    this.#errorsOnly = settings.accessLog === 'errors';
    this.#sample = settings.accessLogSample;
    this.#random = random;
    this.#destination = stdoutDestination({
      sync: false,
      minLength: BATCH_BYTES,
      periodicFlush: FLUSH_MS,
      maxWrite: ATOMIC_WRITE_BYTES,
      maxLength: MAX_QUEUED_BYTES,
    });
    warnOfDrops(this.#destination, log);
    this.#destination.on('error', () => (this.#failing = true));
    this.#destination.on('write', () => (this.#failing = false));
    // Epoch milliseconds, as the gateway's other logs: an ISO date would cost 2 µs more per line.
    this.#log = pino({ base: null }, this.#destination);
  }

  ended(ctx: RequestContext, totalMs: number): void {
    const isError = ctx.status >= 500 || ctx.status === CLIENT_CLOSED_STATUS || ctx.errorCode !== undefined;
    if (!isError && (this.#errorsOnly || (this.#sample < 1 && this.#random() >= this.#sample))) return;
    const plan = ctx.plan;
    const line: AccessLine = {
      requestId: ctx.requestId,
      tenant: ctx.tenant === '' ? undefined : capped(ctx.tenant, MAX_TENANT_CHARS),
      method: capped(ctx.method, MAX_METHOD_CHARS),
      path: cappedPath(ctx.path),
      status: ctx.status,
      // ctx.node, not member: a retry let go untried (out of time) keeps its member but no node.
      node: plan === null || ctx.node < 0 ? undefined : plan.nodeIds[ctx.member],
      bytesIn: ctx.headBytes + ctx.client.bodyBytesRead,
      bytesOut: ctx.client.bytesWritten,
      upstreamMs: ctx.headAt === 0 ? undefined : round(ctx.headAt - ctx.triedAt),
      totalMs: round(totalMs),
      reason: ctx.routing === 0 ? undefined : ROUTING_REASON_NAMES[ctx.routing],
      retries: ctx.retries === 0 ? undefined : ctx.retries,
      code: ctx.errorCode,
    };
    this.#log.info(line, 'request');
  }

  /**
   * The thread exits next: what is still queued goes out first, if stdout takes it in time. Not
   * with SonicBoom's flushSync, which retries a failed write for good (a full disk would hold the
   * thread until the coordinator gave up on it).
   */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const deadline = setTimeout(resolve, FLUSH_AT_EXIT_MS);
      this.#destination.flush(() => {
        clearTimeout(deadline);
        resolve();
      });
    });
  }

  /** The thread is dying now: what is queued goes out at once, unless stdout was failing (see close()). */
  lastLines(): void {
    if (this.#failing) return;
    try {
      this.#destination.flushSync();
    } catch {
      // Dying anyway: what could not be written is lost.
    }
  }
}

/**
 * Client-given fields are cut to these lengths (a refused tenant id, a method, a path can be
 * nearly a whole head long) so that every line stays under ATOMIC_WRITE_BYTES even if JSON had to
 * escape each character as \u00XX (6 bytes): a longer line would be written alone, and could be
 * torn by another thread's write. The request id and node id are short by their own rules.
 */
const MAX_PATH_CHARS = 512;
const MAX_TENANT_CHARS = 64;
const MAX_METHOD_CHARS = 16;

function capped(value: string, max: number): string {
  if (value.length <= max) return value;
  // Never between the halves of a surrogate pair: half a character is no UTF-8, and a strict OTLP
  // collector refuses the whole batch of spans it came in.
  const code = value.charCodeAt(max - 1);
  return `${value.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max)}…`;
}

/** A request's path as a log line or a span shows it: a client may send one nearly a whole head long. */
export function cappedPath(path: string): string {
  return capped(path, MAX_PATH_CHARS);
}

/**
 * Lines dropped behind a stuck stdout, said in the thread's log with how many, at most every 10 s,
 * once stdout took the queued lines (drain): the thread's log writes synchronously, and a warning
 * written while stdout is stuck would stop the thread on it.
 */
export function warnOfDrops(destination: Pick<NodeJS.EventEmitter, 'on'>, log: Pick<Logger, 'warn'>): void {
  const throttle = new LogThrottle(10_000);
  let unsaid = 0;
  destination.on('drop', () => unsaid++);
  destination.on('drain', () => {
    if (unsaid === 0) return;
    const dropped = throttle.count(performance.now(), unsaid);
    unsaid = 0;
    if (dropped !== null) log.warn({ dropped }, 'access log lines dropped: stdout does not take them as fast as they come');
  });
}

/** Milliseconds to the microsecond: what a log reader compares. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
