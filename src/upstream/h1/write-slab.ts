/**
 * Buffers for writes that the socket takes at once (a held body joined with its head), carved one
 * after the other from a slab, as Buffer.allocUnsafe carves small ones from Node's 8 KiB pool. A
 * buffer of its own per request costs an ArrayBuffer's whole life (malloc, a backing store, its
 * sweep, free), more than the copy into it (post-4k, perf). No byte is handed out twice: a full slab
 * is replaced, never rewound, and goes when the last write holding a view of it has been sent.
 * Nothing long-lived may take a view (it would keep the whole slab).
 */
export const SLAB_BYTES = 128 * 1024;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/** `size` bytes, uninitialised: the caller fills all of them. */
export function writeBuffer(size: number): Buffer {
  if (size > SLAB_BYTES) return Buffer.allocUnsafeSlow(size);
  if (size > SLAB_BYTES - used) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + size);
  // 8-byte aligned, as Node's pool keeps its slices.
  used += (size + 7) & ~7;
  return out;
}
