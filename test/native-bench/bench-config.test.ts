import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { featureEnv, writeRinggateConfig } from '../../native-bench/lib/candidates.js';
import { benchOptions, pacedRateRule, pacedTargets } from '../../native-bench/lib/options.js';
import { cpuRatioByRound } from '../../native-bench/lib/report.js';
import { scenarioNamed, scenarioRequests, wrkScript } from '../../native-bench/lib/scenarios.js';
import { measuredRound } from '../helpers/measured-round.js';
import { scratchDir } from '../helpers/scratch.js';


describe('native-bench ringgate config and requests', () => {
  it('writes an every-feature config this build loads, with the features on and the limits out of reach', () => {
    const dir = scratchDir('bench-config-');
    const path = writeRinggateConfig(join(dir, 'ringgate.json'), [40001, 40002, 40003], { everyFeature: true });
    const config = loadConfig({ GATEWAY_CONFIG: path, ...featureEnv({ everyFeature: true }) });
    const route = config.routes[0]!;
    const cluster = config.clusters.bench!;
    expect(config.settings.zone).toBe('az-0');
    expect(route.multiplex).toBe(true);
    expect(route.idempotency).toBe('optional');
    expect(route.rateLimit?.requests).toBeGreaterThanOrEqual(1_000_000_000);
    expect(cluster.maxInFlight).toBe(1024);
    expect(cluster.healthCheck?.path).toBe('/');
    expect(cluster.cacheHeader?.name).toBe('x-cache');
    expect(cluster.nodes.map((n) => n.url)).toEqual(['http://127.0.0.1:40001', 'http://127.0.0.1:40002', 'http://127.0.0.1:40003']);
  });

  it('gives every GET of a cycle its own query, so multiplexing never merges two, and replays POSTs as they are', () => {
    const reads = scenarioRequests(scenarioNamed('get-1k'));
    expect(new Set(reads.map(({ path }) => path)).size).toBe(reads.length);
    expect(reads.length).toBeGreaterThanOrEqual(1000);
    expect(reads[7]).toEqual({ method: 'GET', path: '/?r=7', tenant: 'acme', bodyBytes: 0 });
    const tenants = scenarioRequests(scenarioNamed('tenants-1000'));
    expect(new Set(tenants.map(({ tenant }) => tenant)).size).toBe(1000);
    expect(scenarioRequests(scenarioNamed('post-1m'))).toEqual([{ method: 'POST', path: '/', tenant: 'acme', bodyBytes: 1024 * 1024 }]);
    // The 1 MiB body is built once by the script, not written out per request.
    expect(wrkScript(scenarioNamed('post-1m')).length).toBeLessThan(10_000);
  });

  it('interleaves the mix request by request, a third of each shape, from 1,000 tenants', () => {
    const mix = scenarioRequests(scenarioNamed('mix'));
    expect(mix.slice(0, 4).map(({ method, path, bodyBytes }) => `${method} ${path} ${bodyBytes}`)).toEqual(['GET /?r=0 0', 'GET /64k?r=0 0', 'POST / 4096', 'GET /?r=1 0']);
    const count = (predicate: (r: (typeof mix)[number]) => boolean): number => mix.filter(predicate).length;
    expect(count((r) => r.path.startsWith('/?'))).toBe(mix.length / 3);
    expect(count((r) => r.path.startsWith('/64k?'))).toBe(mix.length / 3);
    expect(count((r) => r.method === 'POST' && r.bodyBytes === 4096)).toBe(mix.length / 3);
    expect(new Set(mix.map(({ tenant }) => tenant)).size).toBe(1000);
    // Reads stay distinct, so multiplexing merges none of them.
    const reads = mix.filter((r) => r.method === 'GET');
    expect(new Set(reads.map(({ path }) => path)).size).toBe(reads.length);
  });

  it('takes the median of per-round CPU ratios, skipping rounds without a CPU reading', () => {
    const run = (cpuUsPerRequest: number | null) => measuredRound(1, cpuUsPerRequest);
    const ringgate = [run(30), run(50), run(44), run(10)];
    const floor = [run(20), run(25), run(40), run(null)];
    // 1.5, 2.0, 1.1: median 1.5 (not 124/85 from the sums, nor a ratio of medians).
    expect(cpuRatioByRound(ringgate, floor)).toBe(1.5);
    expect(cpuRatioByRound(ringgate, undefined)).toBeNull();
  });
});

describe('native-bench paced rate (BENCH_PACED_RATE)', () => {
  it('paces each proxy at half its own max by default, or all at one rate', () => {
    const saturated = [40_000, 100_000];
    expect(benchOptions({}).pacedRate).toBe('own');
    expect(pacedTargets(saturated, benchOptions({}).pacedRate)).toEqual([20_000, 50_000]);
    expect(pacedTargets(saturated, benchOptions({ BENCH_PACED_RATE: 'slowest' }).pacedRate)).toEqual([20_000, 20_000]);
    expect(pacedTargets(saturated, benchOptions({ BENCH_PACED_RATE: '15000' }).pacedRate)).toEqual([15_000, 15_000]);
    expect(pacedRateRule('slowest')).toBe("one for all: half the slowest's max");
  });

  it('refuses a rate that is none, naming the variable and the value', () => {
    for (const bad of ['0', '-5', '1.5', 'fastest']) {
      expect(() => benchOptions({ BENCH_PACED_RATE: bad })).toThrow(`BENCH_PACED_RATE: expected own, slowest or an integer ≥ 1 (requests a second), got "${bad}"`);
    }
  });
});
