import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { AnsweredCode } from '../errors.js';

/** The largest admin request body read: a push for ~50,000 nodes. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The bytes of push bodies the admin server holds at once, across its connections: each may
 * hold MAX_BODY_BYTES, and without a bound on the sum a token holder with its 256 connections
 * could have the coordinator hold 2 GiB.
 */
export class BodyBudget {
  readonly limit: number;
  #held = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get held(): number {
    return this.#held;
  }

  /** Takes `bytes` when they fit under the limit; takes nothing otherwise. */
  take(bytes: number): boolean {
    if (this.#held + bytes > this.limit) return false;
    this.#held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#held -= bytes;
  }
}

export type BodyRead = { body: unknown } | { code: AnsweredCode; error: string };

/**
 * The request's JSON body, or why there is none to use: over MAX_BODY_BYTES (ERR_BAD_PUSH), or
 * over what `budget` has left (ERR_PUSH_BUFFER_FULL, to be retried). Either way the rest is read
 * and dropped: leaving the loop destroys the request, and its socket with it, so the client would
 * get a reset instead of the answer. ADMIN_LIMITS.requestMs bounds how long that takes. What the
 * body took of the budget is given back however the read ends: whole, refused, or cut off.
 */
export async function readJson(req: IncomingMessage, budget: BodyBudget): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  // A declared length over the limit is known before a byte comes: nothing of it is held.
  let bytes = Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES ? MAX_BODY_BYTES + 1 : 0;
  let held = 0;
  let full = false;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes <= MAX_BODY_BYTES && !full && budget.take(chunk.length)) {
        held += chunk.length;
        chunks.push(chunk);
        continue;
      }
      full ||= bytes <= MAX_BODY_BYTES;
      budget.give(held);
      held = 0;
      chunks.length = 0;
    }
    // Over the limit is said first: a retry would not change it.
    if (bytes > MAX_BODY_BYTES) return { code: 'ERR_BAD_PUSH', error: `(body): over ${MAX_BODY_BYTES} bytes` };
    if (full) return { code: 'ERR_PUSH_BUFFER_FULL', error: `(body): the pushes being read would hold over ${budget.limit} bytes; retry after Retry-After` };
    try {
      return { body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
    } catch (err) {
      return { code: 'ERR_BAD_PUSH', error: `(body): not JSON: ${(err as Error).message}` };
    }
  } finally {
    budget.give(held);
  }
}
