/** What V8's --trace-gc-nvp printed over a stretch of a run, summed over every isolate (main and acceptor threads). */
export interface GcSummary {
  readonly scavenges: number;
  readonly markCompacts: number;
  /** Heap shrinkage over every collection (objects before − after), in bytes: the garbage collected. */
  readonly freedBytes: number;
  /**
   * Bytes the scavenges moved to the old generation: objects that lived through two of them. They
   * make each scavenge longer and are freed only by a Mark-Compact.
   */
  readonly promotedBytes: number;
  /** Time the collections paused their thread, in ms. */
  readonly pauseMs: number;
}

/**
 * One --trace-gc-nvp line (Node 20, V8 11) is name=value pairs after the isolate and time:
 *   [pid:isolate]  3213 ms: pause=1.2 mutator=18.0 gc=s … total_size_before=26437808 total_size_after=13399576 … promoted=163792 …
 * with gc=s for a scavenge and gc=mc for a full collection. Sizes are bytes of V8's heap: buffers
 * outside it (socket reads) show only through the collections they cause.
 */
const NVP_LINE = /\d+ ms: pause=([\d.]+) .*\bgc=(s|mc) /;

function field(line: string, name: string): number {
  const match = new RegExp(` ${name}=(\\d+)`).exec(line);
  return match === null ? 0 : Number(match[1]);
}

export function parseTraceGc(text: string): GcSummary {
  let scavenges = 0;
  let markCompacts = 0;
  let freedBytes = 0;
  let promotedBytes = 0;
  let pauseMs = 0;
  for (const line of text.split('\n')) {
    const match = NVP_LINE.exec(line);
    if (match === null) continue;
    if (match[2] === 's') {
      scavenges++;
      promotedBytes += field(line, 'promoted');
    } else {
      markCompacts++;
    }
    freedBytes += Math.max(0, field(line, 'total_size_before') - field(line, 'total_size_after'));
    pauseMs += Number(match[1]);
  }
  return { scavenges, markCompacts, freedBytes, promotedBytes, pauseMs };
}
