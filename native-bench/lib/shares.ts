/** Per-node request shares for the balance bench, from ringgate's /metrics. */

/** `ringgate_node_requests_total` per node, from Prometheus text. */
export function nodeRequestCounts(metricsText: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of metricsText.matchAll(/^ringgate_node_requests_total\{[^}]*node="([^"]+)"[^}]*\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/gm)) {
    counts.set(match[1]!, Number(match[2]));
  }
  return counts;
}

/** Requests per node between two readings, in the order of `after`'s nodes. */
export function countsBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): number[] {
  return [...after].map(([node, count]) => count - (before.get(node) ?? 0));
}

/** Each node's share of the requests, in percent. */
export function sharesPercent(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? (c / total) * 100 : 0));
}

/** Population standard deviation of the shares, in percentage points (0: perfectly even). */
export function shareStdevPoints(counts: readonly number[]): number {
  const shares = sharesPercent(counts);
  const mean = 100 / shares.length;
  return Math.sqrt(shares.reduce((sum, s) => sum + (s - mean) ** 2, 0) / shares.length);
}
