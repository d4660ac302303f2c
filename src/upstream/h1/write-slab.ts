import { Buffer } from 'node:buffer';
import { SlabCarver } from '../../slab-carver.js';

/**
 * Buffers for writes that the socket takes at once: request heads of 4 KiB or more, with any held
 * body joined to them (smaller ones are slices of Node's pool, request-head.ts). The socket lets go
 * of them once written, so a slab is soon free; nothing long-lived may take one (it would keep the
 * whole slab).
 */
export const SLAB_BYTES = 128 * 1024;

const slabs = new SlabCarver(SLAB_BYTES);

/** `size` bytes, uninitialised: the caller fills all of them. */
export function writeBuffer(size: number): Buffer {
  return size > SLAB_BYTES ? Buffer.allocUnsafeSlow(size) : slabs.take(size);
}
