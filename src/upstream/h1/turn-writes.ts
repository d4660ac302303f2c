/**
 * Requests (a head, with its body when in hand; a streamed upload's body follows its head) wait
 * here for the end of the event loop's turn, then go out together. Written one by one as each
 * client's request was read, nearly every write found the node asleep and woke it: under get-1k,
 * nginx blocked in epoll once every 1.2 requests (once every 4 behind the bare uWS + undici
 * floor), and each wake-up cost the writing thread about 1.5 µs in the kernel. Written together,
 * a turn's requests find the node awake. Envoy defers its writes the same way (its
 * ConnectionImpl::write buffers and activates the write event). A request waits only for the rest
 * of its turn's callbacks: microseconds at low load.
 */

/** A connection holding a request until the turn ends. */
export interface TurnWriter {
  /** Writes the held request, unless it failed meanwhile. */
  writeHeld(): void;
}

let waiting: TurnWriter[] = [];
let spare: TurnWriter[] = [];
/** The number of the turn running now: it changes as the turn's held requests have gone out. */
let turn = 0;
let scheduled = false;

/** Runs once a turn (setImmediate: after the poll phase's I/O callbacks), only when one waits. */
function writeAll(): void {
  scheduled = false;
  const batch = waiting;
  // A request held while these are written waits for the next turn.
  waiting = spare;
  spare = batch;
  try {
    for (let i = 0; i < batch.length; i++) batch[i]!.writeHeld();
  } finally {
    batch.length = 0;
    turn++;
  }
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(writeAll);
}

export function writeAtTurnEnd(writer: TurnWriter): void {
  schedule();
  waiting.push(writer);
}

/**
 * The number of the turn running now, for a writer to tell later whether a request it writes was
 * held in that same turn (writingTurn). It changes at this turn's end, held requests or not.
 */
export function currentTurn(): number {
  schedule();
  return turn;
}

/** Inside writeHeld: the number of the turn whose held requests are being written. */
export function writingTurn(): number {
  return turn;
}
