import { performance } from 'node:perf_hooks';
import type { Settings } from '../config/schema.js';
import { hex64 } from '../hash.js';
import { idempotencyKey, IdempotencyScripts, RedisClaim } from '../redis/idempotency-scripts.js';
import type { RedisOutage } from '../redis/outage.js';
import { ClaimResult } from '../shm/idempotency-table.js';
import { ClaimTokens } from './claim-tokens.js';
import type { ClaimDone, Hash64, HeldKey, IdempotencyStore, LocalIdempotencyStore, SharedClaim } from './idempotency-store.js';

const CLAIM_RESULTS: Readonly<Record<RedisClaim, ClaimResult>> = {
  [RedisClaim.Claimed]: ClaimResult.Claimed,
  [RedisClaim.InFlight]: ClaimResult.InFlight,
  [RedisClaim.Reused]: ClaimResult.Reused,
  [RedisClaim.Replay]: ClaimResult.Replay,
};

/**
 * Idempotency keys every instance shares (GATEWAY_SHARED_STATE=redis): a claim is a SET NX in
 * Redis (redis/idempotency-scripts.ts), so of two duplicates on two instances one runs and the
 * other gets 409, then the replay, as within one instance. A claim names itself by a token, so a
 * late completion never overwrites a newer claim of the same key. A claim expires (so that one
 * whose instance died does not hold the key for good), and is renewed while its request runs: an
 * answer's body may take longer than any timeout, which times only the gaps.
 * Each claim is made in this instance's table first, and ends in both: a duplicate reaching this
 * instance is refused or answered there, Redis up or not (while Redis fails, the table alone
 * guards the key; fail open across instances).
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly waits = true;
  readonly #scripts: IdempotencyScripts;
  readonly #local: LocalIdempotencyStore;
  readonly #outage: RedisOutage;
  readonly #keyPrefix: string;
  readonly #ttlMs: number;
  readonly #inFlightMs: number;
  readonly #tokens = new ClaimTokens();
  /** Completions that failed, sent again once the connection is back. */
  #unsent: Completion[] = [];
  #unsentBytes = 0;
  /**
   * Releases of claims that failed, likewise; apart, as most never reached Redis (refused at once
   * while it is down): a burst of them must not push out a completion, whose loss would let a
   * duplicate of a write that ran run again once the claim expired.
   */
  #unsentReleases: Completion[] = [];
  /** Claims in Redis of this thread's requests still running, Redis key by token: renewed until completed. */
  readonly #running = new Map<string, string>();
  #renewals: NodeJS.Timeout | null = null;

  /** `inFlight`: how long a claim holds unless renewed (tests make it short). */
  constructor(settings: Readonly<Settings>, scripts: IdempotencyScripts, local: LocalIdempotencyStore, outage: RedisOutage, inFlight = inFlightMs(settings.upstreamTimeoutMs)) {
    this.#scripts = scripts;
    scripts.onReconnect(() => this.#resend());
    this.#local = local;
    this.#outage = outage;
    this.#keyPrefix = settings.redisKeyPrefix;
    this.#ttlMs = settings.idempotencyTtlMs;
    this.#inFlightMs = inFlight;
  }

  get maxResponseBytes(): number {
    return this.#local.maxResponseBytes;
  }

  claim(key: Hash64, fingerprint: Hash64, done: ClaimDone): void {
    this.#local.claim(key, fingerprint, (result, local, replay) => {
      // Known here already (in flight, done, reused): the answer holds fleet-wide as well, and
      // holds while Redis fails. A bucket full of claims in flight leaves the key to Redis alone.
      if (result !== ClaimResult.Claimed && result !== ClaimResult.Full) return done(result, null, replay);
      const shared = { key: idempotencyKey(this.#keyPrefix, hex64(key.lo, key.hi)), fingerprint: hex64(fingerprint.lo, fingerprint.hi), token: this.#tokens.next() };
      this.#claimShared(shared, local, done);
    });
  }

  #claimShared(shared: SharedClaim, local: HeldKey | null, done: ClaimDone): void {
    this.#scripts.claim(shared.key, shared.fingerprint, shared.token, this.#inFlightMs).then(
      ([result, stored]) => {
        if (result === RedisClaim.Claimed) {
          this.#hold(shared.token, shared.key);
          return done(ClaimResult.Claimed, { entry: local?.entry ?? -1, claim: local?.claim ?? 0, shared }, null);
        }
        // Another instance's request has the key: this instance's claim goes.
        if (local !== null) this.#local.complete(local, null);
        done(CLAIM_RESULTS[result], null, stored ?? null);
      },
      (err: Error) => {
        this.#outage.failed('idempotency', err);
        // A claim that timed out, or whose reply the lost connection took, may have landed; this
        // release runs after it (one connection, in order), or once the connection is back: else its
        // marker would hold the key for every instance until it expires. The request's end is sent
        // too: an answer to keep reaches the fleet once Redis is back.
        this.#sendRelease({ ...shared, response: null, at: performance.now() });
        if (local === null) return done(ClaimResult.Full, null, null);
        done(ClaimResult.Claimed, { entry: local.entry, claim: local.claim, shared }, null);
      },
    );
  }

  complete(held: HeldKey, response: Uint8Array | null): void {
    this.#local.complete(held, response);
    const completion = { ...held.shared!, response, at: performance.now() };
    // A claim Redis never confirmed (or no longer holds) has its release queued with the others.
    if (response === null && !this.#running.has(completion.token)) return this.#sendRelease(completion);
    // Still renewed until Redis has it: a completion that fails must find its claim when it is sent again.
    this.#send(completion, true);
  }

  /**
   * A completion that fails (`counted`: as an outage) is kept to send again: at each renewal
   * round while its claim is renewed (an error that leaves the connection up: READONLY after a
   * failover, OOM), and once the connection is back. Until then the in-flight claim holds, and
   * duplicates get 409. The script names its claim, so sent late or twice it never touches a newer
   * claim of the key.
   */
  #send(completion: Completion, counted: boolean): void {
    // An answer is kept for the TTL from the request's end, however late it reaches Redis.
    const ttlMs = Math.ceil(this.#ttlMs - (performance.now() - completion.at));
    if (ttlMs <= 0) return void this.#running.delete(completion.token);
    this.#scripts.complete(completion.key, completion.fingerprint, completion.token, completion.response, ttlMs).then(
      () => this.#running.delete(completion.token),
      (err: Error) => {
        if (counted) this.#outage.failed('idempotency', err);
        const bytes = completion.response?.byteLength ?? 0;
        if (bytes > MAX_UNSENT_BYTES) return void this.#running.delete(completion.token);
        while (this.#unsent.length === MAX_UNSENT || this.#unsentBytes + bytes > MAX_UNSENT_BYTES) this.#dropUnsent();
        this.#unsent.push(completion);
        this.#unsentBytes += bytes;
        this.#tick();
      },
    );
  }

  /** The oldest unsent completion goes, and its claim is no longer renewed: it will run out. */
  #dropUnsent(): void {
    const dropped = this.#unsent.shift()!;
    this.#unsentBytes -= dropped.response?.byteLength ?? 0;
    this.#running.delete(dropped.token);
  }

  /** A claim its request holds from now on: renewed a few times within each inFlightMs until completed. */
  #hold(token: string, redisKey: string): void {
    this.#running.set(token, redisKey);
    this.#tick();
  }

  /**
   * Renewal rounds run while a claim is held or anything waits to be sent again: an end or release
   * of a claim Redis refused (the table alone held its key) has no claim to renew, and with the
   * connection up no 'ready' comes to send it.
   */
  #tick(): void {
    this.#renewals ??= setInterval(this.#renew, this.#inFlightMs / RENEWALS_PER_HOLD).unref();
  }

  /**
   * Each running claim holds for inFlightMs more. One that failed to renew (Redis down) may still
   * be renewed in time by the next round; one no longer ours (it ran out meanwhile) is let go.
   */
  readonly #renew = (): void => {
    if (this.#unsent.length > 0 || this.#unsentReleases.length > 0) this.#resend();
    // A resend that fails again is queued again, and starts the rounds again (#tick).
    if (this.#running.size === 0) {
      clearInterval(this.#renewals!);
      this.#renewals = null;
      return;
    }
    let failed = false;
    for (const [token, redisKey] of this.#running) {
      this.#scripts.renew(redisKey, token, this.#inFlightMs).then(
        (held) => held === 0 && this.#running.delete(token),
        (err: Error) => {
          // One outage a round, however many claims it failed.
          if (!failed) this.#outage.failed('idempotency', err);
          failed = true;
        },
      );
    }
  };

  /** A failed claim's release, kept apart from the completions when it fails too (the oldest go first). */
  #sendRelease(release: Completion): void {
    this.#scripts.complete(release.key, release.fingerprint, release.token, null, this.#ttlMs).catch(() => {
      if (this.#unsentReleases.length === MAX_UNSENT) this.#unsentReleases.shift();
      this.#unsentReleases.push(release);
      this.#tick();
    });
  }

  #resend(): void {
    const unsent = this.#unsent;
    const releases = this.#unsentReleases;
    this.#unsent = [];
    this.#unsentBytes = 0;
    this.#unsentReleases = [];
    // Past inFlightMs a claim ran out, unless it was renewed meanwhile: nothing left to let go. An
    // answer is kept all the same (the write ran): a duplicate gets it, not a second run.
    const since = performance.now() - this.#inFlightMs;
    for (const completion of unsent) if (completion.response !== null || completion.at > since || this.#running.has(completion.token)) this.#send(completion, false);
    for (const release of releases) if (release.at > since) this.#sendRelease(release);
  }
}

/** A claim's completion: the answer to keep, or null to let the key go. */
interface Completion extends SharedClaim {
  readonly response: Uint8Array | null;
  /** When it was first sent (performance.now()). */
  readonly at: number;
}

/** Renewals of a running claim within each inFlightMs: one lost to a blip leaves others before it runs out. */
const RENEWALS_PER_HOLD = 3;

/** Completions kept for a connection that is back, and their answers' bytes; beyond, the oldest go (their claims run out). */
const MAX_UNSENT = 1024;
const MAX_UNSENT_BYTES = 64 * 1024 * 1024;

/**
 * How long an in-flight claim holds in Redis unless renewed: past the longest a request waits for
 * its answer's head (all tries), so a claim runs out only once its instance died (or lost Redis
 * for as long), and then duplicates may run.
 */
export function inFlightMs(upstreamTimeoutMs: number): number {
  return Math.max(60_000, 2 * upstreamTimeoutMs);
}
