import { TurnBatch, type HeldWrite } from '../turn-batch.js';

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

/** A response holding a whole answer until the turn ends: writeHeld writes it, unless its client went away. */
export type HeldAnswer = HeldWrite;

const SLAB_BYTES = 256 * 1024;
const slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;
// The slab is rewound once every answer copied into it is out (one held while a batch is written goes in the next).
const answers = new TurnBatch(() => {
  if (answers.size === 0) slabUsed = 0;
});

/** Writes the held answers now: before the thread closes its sockets (a drain's last answers are held too). */
export function writeHeldAnswers(): void {
  if (answers.size > 0) answers.writeNow();
}

/** Holds `answer` until the turn ends; returns its bytes' copy, good until then. */
export function holdAnswer(answer: HeldAnswer, bytes: Buffer): Buffer {
  answers.hold(answer);
  const end = slabUsed + bytes.length;
  if (end > SLAB_BYTES) return Buffer.from(bytes);
  slab.set(bytes, slabUsed);
  const copy = slab.subarray(slabUsed, end);
  slabUsed = end;
  return copy;
}
