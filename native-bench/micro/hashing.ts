import { createHash } from 'node:crypto';
import xxhash from 'xxhash-wasm';
import type { MicroSuite, MicroTask } from './suite.js';

/** FNV-1a 32-bit in plain JS: the hand-written alternative to a wasm hash. */
function fnv1a(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Hashing typical routing keys: short tenant ids, UUIDs, request paths. */
export async function hashingSuite(batch: number): Promise<MicroSuite> {
  const { h32, h64 } = await xxhash();
  const shapes = [
    ['tenant ids (~10 B)', (i: number) => `acme-${i}`],
    ['UUIDs (36 B)', (i: number) => `3f2b8c1e-9d4a-4e7b-a1c6-${String(i).padStart(12, '0')}`],
    ['paths (~60 B)', (i: number) => `/api/v2/accounts/${i}/invoices/2026/11/summary?format=json`],
  ] as const;
  const tasks: MicroTask[] = [];
  let sink = 0;
  for (const [label, make] of shapes) {
    const keys = Array.from({ length: batch }, (_, i) => make(i));
    tasks.push(
      { name: `xxhash-wasm h32, ${label}`, run: () => keys.forEach((k) => (sink ^= h32(k, 0))) },
      { name: `xxhash-wasm h64, ${label}`, run: () => keys.forEach((k) => (sink ^= Number(h64(k, 0n) & 0xffn))) },
      { name: `FNV-1a in JS, ${label}`, run: () => keys.forEach((k) => (sink ^= fnv1a(k))) },
    );
  }
  const sample = Array.from({ length: batch }, (_, i) => `acme-${i}`);
  tasks.push({ name: 'node:crypto md5, tenant ids (~10 B)', run: () => sample.forEach((k) => (sink ^= createHash('md5').update(k).digest()[0]!)) });
  if (sink === 0.5) throw new Error('unreachable: keeps the loop from being optimised away');
  return { title: 'Hashing a routing key (per hash)', tasks };
}
