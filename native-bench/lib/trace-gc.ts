/** What V8's --trace-gc printed over a stretch of a run, summed over every isolate (main and acceptor threads). */
export interface GcSummary {
  readonly scavenges: number;
  readonly markCompacts: number;
  /** Heap shrinkage over every collection (before − after), in bytes: the garbage collected. */
  readonly freedBytes: number;
  /** Time the collections paused their thread, in ms. */
  readonly pauseMs: number;
}

/**
 * One --trace-gc line (Node 20, V8 11):
 *   [pid:isolate]  3213 ms: Scavenge 10.9 (13.0) -> 3.1 (13.0) MB, 1.23 / 0.00 ms  (average mu = …) allocation failure;
 * with "Mark-Compact" (or "Mark-Compact (reduce)") for a full collection. Sizes are MB of V8's
 * heap: buffers outside it (socket reads) show only through the collections they cause.
 */
const GC_LINE = /\d+ ms: (Scavenge|Mark-Compact)[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

export function parseTraceGc(text: string): GcSummary {
  let scavenges = 0;
  let markCompacts = 0;
  let freedMb = 0;
  let pauseMs = 0;
  for (const line of text.split('\n')) {
    const match = GC_LINE.exec(line);
    if (match === null) continue;
    if (match[1] === 'Scavenge') scavenges++;
    else markCompacts++;
    freedMb += Math.max(0, Number(match[2]) - Number(match[3]));
    pauseMs += Number(match[4]);
  }
  return { scavenges, markCompacts, freedBytes: freedMb * 2 ** 20, pauseMs };
}
