import { Buffer } from 'node:buffer';

/**
 * Buffers carved one after the other from slabs, as Buffer.allocUnsafe carves those under 4 KiB
 * from Node's 8 KiB pool. A buffer of its own costs an ArrayBuffer's whole life (malloc, a backing
 * store, its sweep, free), more than the bytes it holds at these sizes (post-4k, perf). No byte is
 * handed out twice: a full slab is replaced, never rewound, and goes once the last buffer carved
 * from it is collected. So one buffer kept long keeps its whole slab: each user bounds that by the
 * sizes it carves against the slab's.
 */
export class SlabCarver {
  readonly slabBytes: number;
  /** The slab's memory: a Buffer over it reads `.buffer` (a call into C++) for every subarray. */
  #slab: ArrayBuffer;
  #used = 0;

  constructor(slabBytes: number) {
    this.slabBytes = slabBytes;
    this.#slab = freshSlab(slabBytes);
  }

  /** `size` bytes (at most slabBytes), uninitialised: the caller fills all of them. */
  take(size: number): Buffer {
    if (size > this.slabBytes) throw new RangeError(`${size} bytes do not fit a ${this.slabBytes}-byte slab`);
    if (size > this.slabBytes - this.#used) {
      this.#slab = freshSlab(this.slabBytes);
      this.#used = 0;
    }
    const out = Buffer.from(this.#slab, this.#used, size);
    // 8-byte aligned, as Node's pool keeps its slices.
    this.#used += (size + 7) & ~7;
    return out;
  }
}

/** Uninitialised memory of its own (an ArrayBuffer made directly is zero-filled first). */
function freshSlab(bytes: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}
