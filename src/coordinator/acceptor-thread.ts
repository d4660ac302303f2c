import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { AcceptorInit } from '../thread-protocol.js';
import type { AcceptorHost } from './supervisor.js';

const ACCEPTOR_URL = new URL('../acceptor/worker.js', import.meta.url);

/** Bytecode TurboFan may inline into one optimized function: three times V8's default (920). */
const INLINED_BYTECODE_PER_FUNCTION = 2760;

/**
 * A request crosses some 40 small functions (phases, tables, the client), and TurboFan stops
 * inlining into a function once 920 bytes of bytecode were inlined into it (V8's default). Three
 * times that took get-1k's acceptor from 95,259 to 91,928 instructions a request and post-4k's from
 * 111,351 to 108,081 in one run (82,400 against about 91,000 in another; native-bench/
 * instructions.ts), and 0.965× and 0.959× the CPU µs/req over 9 A/B rounds (2026-12-06).
 * A process-wide flag, read as each function is optimized: set before an acceptor starts, on its
 * own thread or on the main thread (inline-acceptor.ts), it covers all of the acceptor's code.
 */
export function widenInlining(): void {
  setFlagsFromString(`--max-inlined-bytecode-size-cumulative=${INLINED_BYTECODE_PER_FUNCTION}`);
}

/**
 * Starts one acceptor thread with the heap its work wants.
 *
 * Young generation: a proxy's garbage is short-lived and its live set small (the requests in
 * flight), so a scavenge's pause grows with what was allocated since the last one: the young
 * ArrayBuffers to sweep (at least one a request, uWS's copy of the client's address) and what
 * lives to copy. A pause holds up every request in flight, and at half load those make the p99.
 * A 6 MB young generation (2 MB semi-spaces) scavenges twice as often as 12 MB, for 0.3 ms
 * instead of 0.4: get-1k's p99 at half load with 1 thread was lower in 39 of 49 paired rounds,
 * for 1–2% more CPU saturated (8 MB did less, 4 MB nothing; 48 MB, V8's default here, paused
 * 0.9 ms). Fewer semi-space pages also keep RSS down.
 *
 * Old generation floor: every socket read through undici, and every chunk of a streamed upload,
 * is a new ArrayBuffer outside V8's heap, and V8 counts those bytes against the old generation's
 * room until a scavenge frees them. With a live set of ~16 MB V8 leaves ~12 MB of room after a full
 * GC, so large answers through undici ran a full GC every 70–90 ms (get-64k: ~9 a second, p99
 * 30–40 ms; get-1m saturated: 20 per 1,000 requests against 3 with the floor, 1.37× the CPU)
 * though little was promoted. The gateway's own client reads plain-http answers into one buffer
 * per thread, but uploads still need the floor (post-1m without it: 36–65 Mark-Compacts a round
 * against 2–5, 1.3–1.6× the CPU).
 * V8 skips full GCs below the initial old generation size when the embedder sets one; Node's
 * Worker has no resource limit for it, so it is the process-wide V8 flag, read as each new isolate
 * configures its heap. Set before every start, so a restarted thread follows its own config.
 */
export function startAcceptorThread(init: AcceptorInit): AcceptorHost {
  const { acceptorYoungGenerationMb, acceptorOldGenerationFloorMb } = init.config.settings;
  // 0 restores V8's own sizing (an earlier gateway in this process may have set a floor).
  setFlagsFromString(`--initial-old-space-size=${acceptorOldGenerationFloorMb}`);
  widenInlining();
  return new Worker(ACCEPTOR_URL, {
    workerData: init,
    name: `ringgate-acceptor-${init.threadIndex}`,
    resourceLimits: { maxYoungGenerationSizeMb: acceptorYoungGenerationMb },
  });
}
