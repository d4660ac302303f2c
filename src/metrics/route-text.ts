import { METRICS, LATENCY_BUCKETS_SECONDS, type MetricName } from './definitions.js';
import { BATCH_BUCKETS, STATUS_CLASSES, type RouteCounts } from './route-counts.js';

/**
 * Coordinator: the per-route families of (summed) counts as Prometheus text, written here rather
 * than as series objects merged by prom-client's AggregatorRegistry: with 10,000 busy routes that
 * made and hashed 150,000 objects a thread, and held the coordinator about 0.5 s a scrape. The
 * lines are the ones prom-client wrote (same label order, values, blank line between families),
 * and a route gets a series only once it counted something.
 */
export function routeText(counts: RouteCounts): string {
  const routes = counts.labels.map((label) => `route="${escapeLabelValue(label)}"`);
  const blocks: string[] = [];
  const write = (name: MetricName, lines: (push: (line: string) => void) => void): void => {
    const block = [`# HELP ${name} ${escapeText(METRICS[name].help)}`, `# TYPE ${name} ${METRICS[name].type}`];
    lines((line) => block.push(line));
    blocks.push(block.join('\n'));
  };
  write('ringgate_http_requests_total', (push) => {
    routes.forEach((route, r) => {
      STATUS_CLASSES.forEach((statusClass, c) => {
        const value = counts.statusCounts[r * STATUS_CLASSES.length + c]!;
        if (value > 0) push(`ringgate_http_requests_total{${route},status_class="${statusClass}"} ${value}`);
      });
    });
  });
  write('ringgate_http_request_duration_seconds', (push) => {
    const name = 'ringgate_http_request_duration_seconds';
    routes.forEach((route, r) => {
      if (counts.latencyCount[r] === 0) return;
      histogramBuckets(push, name, LATENCY_BUCKETS_SECONDS, route, counts.bucketCounts, r);
      push(`${name}_sum{${route}} ${counts.latencySum[r]!}`);
      push(`${name}_count{${route}} ${counts.latencyCount[r]!}`);
    });
  });
  write('ringgate_request_header_bytes_total', (push) => {
    routes.forEach((route, r) => {
      if (counts.headBytes[r * 2] === 0) return;
      push(`ringgate_request_header_bytes_total{${route},direction="received"} ${counts.headBytes[r * 2]!}`);
      push(`ringgate_request_header_bytes_total{${route},direction="forwarded"} ${counts.headBytes[r * 2 + 1]!}`);
    });
  });
  for (const [name, values] of [
    ['ringgate_rate_limited_total', counts.rateLimited],
    ['ringgate_multiplexed_requests_total', counts.multiplexed],
    ['ringgate_upstream_calls_saved_total', counts.saved],
  ] as const) {
    write(name, (push) => {
      routes.forEach((route, r) => {
        if (values[r]! > 0) push(`${name}{${route}} ${values[r]!}`);
      });
    });
  }
  write('ringgate_multiplex_batch_size', (push) => {
    const name = 'ringgate_multiplex_batch_size';
    const width = BATCH_BUCKETS.length + 1;
    routes.forEach((route, r) => {
      let count = 0;
      for (let b = 0; b < width; b++) count += counts.batchSizes[r * width + b]!;
      if (count === 0) return;
      histogramBuckets(push, name, BATCH_BUCKETS, route, counts.batchSizes, r);
      push(`${name}_sum{${route}} ${counts.batchSum[r]!}`);
      push(`${name}_count{${route}} ${count}`);
    });
  });
  return blocks.join('\n\n');
}

/** A route's cumulative `_bucket` lines from its non-cumulative counts (bounds, then +Inf). */
function histogramBuckets(push: (line: string) => void, name: string, bounds: readonly number[], route: string, perBucket: Float64Array, r: number): void {
  const width = bounds.length + 1;
  let cumulative = 0;
  for (let b = 0; b < width; b++) {
    cumulative += perBucket[r * width + b]!;
    push(`${name}_bucket{le="${b < bounds.length ? bounds[b]! : '+Inf'}",${route}} ${cumulative}`);
  }
}

/** Backslashes and line ends escaped, as the text format (and prom-client) writes help texts. */
function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string): string {
  return escapeText(value).replace(/"/g, '\\"');
}
