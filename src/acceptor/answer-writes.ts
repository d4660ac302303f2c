/**
 * Whole answers read in one piece wait here for the end of the event loop's turn, then go out
 * together, as requests to nodes do (upstream/h1/turn-writes.ts). Written as each node's answer
 * was read, nearly every `sendto` found the client asleep and woke it, and the wake-up is paid by
 * the writing thread. Written back to back, most find it awake.
 *
 * The answer's bytes are a view of the read buffer every node connection shares, so they are
 * copied: into a per-thread slab that is reused once a turn's answers are out, so a held answer
 * costs a copy and no allocation.
 */

/**
 * Larger answers are written as they come: their cost is in their bytes, not in the wake-ups
 * (a 64 KiB answer's copy would cost more than the wake-up it saves), and uWS corks up to 16 KiB.
 */
export const HELD_ANSWER_MAX_BYTES = 16 * 1024;

/** A response holding a whole answer until the turn ends. */
export interface HeldAnswer {
  /** Writes the held answer, unless its client went away meanwhile. */
  writeHeld(): void;
}

const SLAB_BYTES = 256 * 1024;
const slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;
let waiting: HeldAnswer[] = [];
let spare: HeldAnswer[] = [];

/** Runs once a turn (setImmediate: after the poll phase's I/O callbacks), only when one waits. */
function writeAll(): void {
  const batch = waiting;
  // An answer held while these are written waits for the next turn, its bytes after theirs.
  waiting = spare;
  spare = batch;
  try {
    for (let i = 0; i < batch.length; i++) batch[i]!.writeHeld();
  } finally {
    batch.length = 0;
    if (waiting.length === 0) slabUsed = 0;
  }
}

/** Writes the held answers now: before the thread closes its sockets (a drain's last answers are held too). */
export function writeHeldAnswers(): void {
  if (waiting.length > 0) writeAll();
}

/** Holds `answer` until the turn ends; returns its bytes' copy, good until then. */
export function holdAnswer(answer: HeldAnswer, bytes: Buffer): Buffer {
  if (waiting.length === 0) setImmediate(writeAll);
  waiting.push(answer);
  const end = slabUsed + bytes.length;
  if (end > SLAB_BYTES) return Buffer.from(bytes);
  slab.set(bytes, slabUsed);
  const copy = slab.subarray(slabUsed, end);
  slabUsed = end;
  return copy;
}
