import { describe, expect, it } from 'vitest';
import { topFrames } from '../../flamegraphs/top-frames.js';
import { lastLines } from '../../native-bench/lib/proc.js';
import { countsBetween, nodeRequestCounts, shareStdevPoints, sharesPercent } from '../../native-bench/lib/shares.js';
import { median, spreadPercent } from '../../native-bench/lib/stats.js';
import { parseTraceGc } from '../../native-bench/lib/trace-gc.js';
import { parseWrk } from '../../native-bench/lib/wrk.js';

/** wrk 4.1's report, as printed with --latency (Debian's build). */
const WRK_OUTPUT = `Running 5s test @ http://127.0.0.1:40000
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.84ms    1.10ms  21.60ms   88.01%
    Req/Sec    22.65k     1.31k   24.48k    82.00%
  Latency Distribution
     50%  648.00us
     75%    3.02ms
     90%    3.77ms
     99%    1.20s
  112430 requests in 5.00s, 133.62MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  22485.54
Transfer/sec:     26.72MB
`;

describe('native-bench parsers', () => {
  it('reads requests, rate, percentiles in every unit, and errors from wrk', () => {
    const result = parseWrk(WRK_OUTPUT);
    expect(result.requests).toBe(112_430);
    expect(result.seconds).toBe(5);
    expect(result.rps).toBeCloseTo(22_486, 0);
    expect(result.p50Ms).toBeCloseTo(0.648, 6);
    expect(result.p99Ms).toBe(1200);
    expect(result.errors).toBe(2 + 3 + 7);
    // Socket errors are no requests; a non-2xx answer is one, but not one served.
    expect(result.answered).toBe(112_430 - 7);
    expect(result.errorKinds).toBe('read 2, timeout 3, non-2xx 7');
    expect(parseWrk(WRK_OUTPUT.replace(/  Socket errors.*\n  Non-2xx.*\n/, '')).errorKinds).toBe('');
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/unexpected wrk output/);
  });

  it("shows the last lines of a candidate's output, indented", () => {
    expect(lastLines('banner\nwarn one\nwarn two\n\n', 2)).toBe('    warn one\n    warn two');
    expect(lastLines('only', 5)).toBe('    only');
  });

  it('takes medians and the spread between rounds', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(spreadPercent([90, 100, 110])).toBeCloseTo(20, 6);
    expect(spreadPercent([100])).toBe(0);
  });

  it('ranks profile frames by self and inclusive ticks, leaving idle ticks out', () => {
    const code = [
      { name: 'handle file:///x/dist/acceptor/pipeline.js:1:1', type: 'JS' },
      { name: 'send', type: 'CPP' },
      { name: 'onBody /x/node_modules/undici/lib/h1.js:1:1', type: 'JS' },
    ];
    const ticks = [
      { vm: 0, s: [1, 0, 0, 4] }, // send ← handle
      { vm: 0, s: [1, 0, 2, 4] }, // send ← onBody
      { vm: 1, s: [2, 0] }, // GC tick in onBody
      { vm: 8, s: [-1, 99] }, // idle
    ];
    const text = topFrames({ code, ticks });
    expect(text).toContain('3 busy ticks (1 idle left out)');
    expect(text).toContain('| 66.7% | `[CPP] send` |');
    expect(text).toContain('| 66.7% | `onBody node_modules/undici/lib/h1.js:1:1` |');
    expect(text).toContain('| 33.3% | `handle dist/acceptor/pipeline.js:1:1` |');
    expect(text).toMatch(/\| GC \| 33\.3% \|/);
  });

  it('reads per-node request counts from /metrics and turns them into shares and their spread', () => {
    const scrape = (n0: number, n1: number) =>
      `# HELP ringgate_node_requests_total Requests given to each node\n# TYPE ringgate_node_requests_total counter\n` +
      `ringgate_node_requests_total{cluster="bench",node="n0"} ${n0}\nringgate_node_requests_total{cluster="bench",node="n1"} ${n1}\n` +
      `ringgate_node_in_flight{cluster="bench",node="n0"} 3\n`;
    const counts = countsBetween(nodeRequestCounts(scrape(10, 20)), nodeRequestCounts(scrape(760, 270)));
    expect(counts).toEqual([750, 250]);
    expect(sharesPercent(counts)).toEqual([75, 25]);
    expect(shareStdevPoints(counts)).toBe(25);
    // One tenant with half the requests on one of 4 nodes, the rest even: 62.5 / 12.5 × 3.
    expect(shareStdevPoints([625, 125, 125, 125])).toBeCloseTo(21.65, 2);
    expect(shareStdevPoints([1, 1, 1, 1])).toBe(0);
  });

  it('sums the collections of every isolate in --trace-gc-nvp output, ignoring other lines', () => {
    const text = [
      'ringgate listening on port 8080',
      '[8214:0x2bbc0e70]       23 ms: pause=1.25 mutator=18.0 gc=s reduce_memory=0 total_size_before=3000000 total_size_after=1000000 allocated=2500000 promoted=4000 nodes_promoted=0',
      '[8214:0x7f3b48000f00]   44 ms: pause=0.75 mutator=26.3 gc=s reduce_memory=0 total_size_before=2000000 total_size_after=1500000 allocated=900000 promoted=6000 nodes_promoted=0',
      '[8214:0x2bbc0e70]      490 ms: pause=4.0 mutator=400.1 gc=mc reduce_memory=1 total_size_before=9000000 total_size_after=6000000 allocated=300000 promoted=70000 nodes_promoted=0',
    ].join('\n');
    // A full collection's promoted bytes are the young objects it moved, not survivors of scavenges.
    expect(parseTraceGc(text)).toEqual({ scavenges: 2, markCompacts: 1, freedBytes: 5_500_000, promotedBytes: 10_000, pauseMs: 6 });
  });
});
