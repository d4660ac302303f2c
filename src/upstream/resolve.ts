import { lookup as dnsLookup, promises as dns, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { NameTable, ResolvedAddress } from './node-names.js';

/** Resolves a host name to its addresses, or rejects. */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The name watcher asks every name in use each GATEWAY_DNS_TTL_MS: one not asked for this many TTLs is no node's any more. */
export const FORGET_NAMES_AFTER_TTLS = 3;

/**
 * The resolver GATEWAY_DNS_SERVERS asks for: the system's (getaddrinfo, so /etc/hosts and
 * nsswitch count) when no servers are given, else those servers (A and AAAA records), as nginx's
 * `resolver`. Either way an answer slower than `timeoutMs` fails.
 * `forgetAfterMs` (those servers only): a name's last answers are dropped once it was not asked for
 * that long (a node gone, as pods come and go); give it a few GATEWAY_DNS_TTL_MS, as names in use
 * are asked every TTL.
 */
export function createResolve(servers: readonly string[], timeoutMs: number, forgetAfterMs: number, clock: () => number = Date.now): Resolve {
  if (servers.length === 0) {
    return (hostname) =>
      withTimeout(
        dns.lookup(hostname, { all: true }).then((all) => all.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }))),
        timeoutMs,
        hostname,
      );
  }
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([...servers]);
  // Each name's last answer per family: one family's query that fails (a timeout, SERVFAIL) keeps
  // it, or a flaky AAAA beside a good A would read as the name moving (new pools in every thread).
  const lastAnswers = new Map<string, { v4: readonly string[] | null; v6: readonly string[] | null; askedAt: number }>();
  let sweptAt = clock();
  return async (hostname) => {
    const now = clock();
    if (now - sweptAt > forgetAfterMs) {
      sweptAt = now;
      for (const [name, { askedAt }] of lastAnswers) if (now - askedAt > forgetAfterMs) lastAnswers.delete(name);
    }
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    // Both failed: the name watcher keeps the name's addresses, and says so.
    if (failedQuery(v4) && failedQuery(v6)) throw v4.reason;
    const last = lastAnswers.get(hostname);
    const answer = { v4: familyAnswer(v4, last?.v4 ?? null), v6: familyAnswer(v6, last?.v6 ?? null), askedAt: now };
    lastAnswers.set(hostname, answer);
    const addresses = [
      ...(answer.v4 ?? []).map((address) => ({ address, family: 4 as const })),
      ...(answer.v6 ?? []).map((address) => ({ address, family: 6 as const })),
    ];
    if (addresses.length > 0) return addresses;
    throw v4.status === 'rejected' ? v4.reason : new Error(`${hostname}: no A or AAAA record`);
  };
}

/** The query failed (a timeout, SERVFAIL, no server), rather than the server saying the name has no such records. */
function failedQuery(result: PromiseSettledResult<string[]>): result is PromiseRejectedResult {
  if (result.status === 'fulfilled') return false;
  const code = (result.reason as { code?: unknown }).code;
  return code !== dns.NODATA && code !== dns.NOTFOUND;
}

/** A family's addresses: its answer, none when the server says it has none, else (the query failed) the last answer, or null. */
function familyAnswer(result: PromiseSettledResult<string[]>, last: readonly string[] | null): readonly string[] | null {
  if (result.status === 'fulfilled') return result.value;
  return failedQuery(result) ? last : [];
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, hostname: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${hostname}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A net/tls `lookup` that answers `addresses` without asking anyone: a pool pinned to the
 * addresses its name had when it was made. Each call starts one address further on, as a
 * round-robin resolver would: Node connects to the first it gets (with `all`, happy eyeballs tries
 * them in order), so a name with several addresses spreads its connections over all of them.
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  const all = addresses.map(({ address, family }) => ({ address, family }));
  let next = 0;
  return ((_hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    const start = next;
    next = (next + 1) % all.length;
    if (options.all === true) callback(null, [...all.slice(start), ...all.slice(0, start)]);
    else callback(null, all[start]!.address, all[start]!.family);
  }) as LookupFunction;
}

/**
 * A `lookup` that asks `resolve` at every connection: only for a name the coordinator has not
 * resolved yet (it failed at start-up, or a reload just added it) when GATEWAY_DNS_SERVERS is set;
 * without it Node's own lookup does the same.
 */
export function resolvingLookup(resolve: Resolve): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    resolve(hostname).then(
      (addresses) => pinnedLookup(addresses)(hostname, options, callback as never),
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  }) as LookupFunction;
}

/**
 * A `lookup` that reads the coordinator's current table at every connection: for its health
 * checks, which open a connection per check (no keep-alive), so a moved name moves them at once.
 * A name not resolved yet goes to `fallback`, else to Node's lookup.
 */
export function currentLookup(names: () => NameTable, fallback: Resolve | null): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    const addresses = names().get(hostname);
    if (addresses !== undefined && addresses.length > 0) pinnedLookup(addresses)(hostname, options as never, callback as never);
    else if (fallback !== null) resolvingLookup(fallback)(hostname, options as never, callback as never);
    else dnsLookup(hostname, options as never, callback as never);
  }) as LookupFunction;
}
