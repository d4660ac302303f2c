import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** At most one look at the young generation per this many ms: each costs a setImmediate and a heap statistics call (~1 µs). */
const LOOK_EVERY_MS = 1;

type MinorGc = (options: { type: 'minor' }) => void;

/**
 * Scavenges an acceptor thread's young generation while no request of the thread is open, once
 * it is `percent` full, so that the scavenge V8 would make when it fills rarely lands among a
 * burst of requests. At half load a scavenge (0.3–0.4 ms) holds up every request of the burst it
 * lands in, and those make the p99; one made between bursts finds almost nothing live to copy
 * (no request is open), takes about 0.2 ms, and holds up only what arrives meanwhile. Chrome has
 * V8 collect in idle time the same way; Node has no such scheduler. A saturated thread is never
 * idle, and then nothing of this runs but a comparison as its last open request ends, which it
 * seldom does.
 */
export class IdleScavenger {
  readonly #fraction: number;
  readonly #open: () => number;
  readonly #gc: MinorGc;
  #lookAfter = 0;
  #scheduled = false;

  /** `open`: how many requests of the thread are open now (the finisher's count). */
  constructor(percent: number, open: () => number) {
    this.#fraction = percent / 100;
    this.#open = open;
    // V8's gc(), from a context made for it: the flag reaches the contexts made after it is set.
    setFlagsFromString('--expose-gc');
    this.#gc = runInNewContext('gc') as MinorGc;
  }

  /** The thread's last open request ended at `now` (performance.now()). */
  idle(now: number): void {
    if (this.#scheduled || now < this.#lookAfter) return;
    this.#lookAfter = now + LOOK_EVERY_MS;
    this.#scheduled = true;
    // After the rest of the turn's callbacks: a request read in this turn is open by then.
    setImmediate(this.#look);
  }

  readonly #look = (): void => {
    this.#scheduled = false;
    if (this.#open() !== 0) return;
    for (const space of getHeapSpaceStatistics()) {
      if (space.space_name !== 'new_space') continue;
      if (space.space_used_size >= this.#fraction * (space.space_used_size + space.space_available_size)) this.#gc({ type: 'minor' });
      return;
    }
  };
}
