import { randomBytes } from 'node:crypto';

/**
 * The tokens one thread names its Redis claims by (redis-idempotency-store.ts): 64 random bits
 * drawn once per thread, then a count. A completion or renewal names its claim by its token, so
 * two claims of any threads of any instances must never share one; random bits alone per claim
 * would cost a draw per keyed request, and a count alone meets other threads' counts.
 */
export class ClaimTokens {
  readonly #prefix = randomBytes(8).toString('hex');
  #count = 0;

  next(): string {
    return this.#prefix + (this.#count++).toString(36);
  }
}
