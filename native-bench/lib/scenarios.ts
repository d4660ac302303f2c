import { SMALL_BODY, STATIC_FILES } from './upstream.js';

/** One request shape a scenario cycles through; every candidate gets exactly the same bytes. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Request body: POSTs only. */
  readonly bodyBytes: number;
  /** Tenant of each request, cycled in order. */
  readonly tenants: readonly string[];
}

const manyTenants = Array.from({ length: 1000 }, (_, i) => `tenant-${i}`);

export const SCENARIOS: readonly Scenario[] = [
  { name: 'get-1k', description: 'GET, 1 KiB response, one tenant', method: 'GET', path: '/', bodyBytes: 0, tenants: ['acme'] },
  { name: 'get-64k', description: 'GET, 64 KiB response', method: 'GET', path: '/64k', bodyBytes: 0, tenants: ['acme'] },
  { name: 'post-4k', description: 'POST with a 4 KiB body, 1 KiB response', method: 'POST', path: '/', bodyBytes: 4096, tenants: ['acme'] },
  { name: 'get-1m', description: 'GET, 1 MiB response (a download)', method: 'GET', path: '/1m', bodyBytes: 0, tenants: ['acme'] },
  { name: 'post-1m', description: 'POST with a 1 MiB body, 1 KiB response (an upload)', method: 'POST', path: '/', bodyBytes: 1024 * 1024, tenants: ['acme'] },
  { name: 'tenants-1000', description: 'GET, 1,000 tenants in turn', method: 'GET', path: '/', bodyBytes: 0, tenants: manyTenants },
  {
    name: 'hot-tenant',
    description: 'GET, one tenant sends half the requests, 1,000 others the rest',
    method: 'GET',
    path: '/',
    bodyBytes: 0,
    tenants: manyTenants.flatMap((t) => ['hot', t]),
  },
];

/** The scenario of that name; `knob`: where the name came from, for the error. */
export function scenarioNamed(name: string, knob = 'scenarios.ts'): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (found === undefined) throw new Error(`${knob}: no scenario ${JSON.stringify(name)}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return found;
}

/**
 * GETs cycle through this many paths, each with its own query, so no two reads in flight are the
 * same request: a gateway that multiplexes identical reads (ringgate's `multiplex`, configured in
 * the bench) relays every one, as a proxy without it does.
 */
const DISTINCT_READS = 1000;

/** The requests a scenario cycles through, as [path, tenant]. */
export function scenarioRequests(scenario: Scenario): Array<[string, string]> {
  const { tenants } = scenario;
  if (scenario.method !== 'GET') return tenants.map((t) => [scenario.path, t]);
  const count = Math.max(tenants.length, DISTINCT_READS);
  return Array.from({ length: count }, (_, i) => [`${scenario.path}?r=${i}`, tenants[i % tenants.length]!]);
}

/**
 * The wrk script for a scenario: requests are formatted once in init() and replayed, so the load
 * generator spends no CPU building them. `paceMs` makes each connection wait a random 0…2×paceMs
 * between requests (an open-ish loop at a chosen rate, for latency below saturation); the delay is
 * random because a fixed one keeps every connection in step and turns the load into bursts.
 */
export function wrkScript(scenario: Scenario, paceMs?: number): string {
  const body = scenario.bodyBytes > 0 ? `string.rep("p", ${scenario.bodyBytes})` : 'nil';
  const headers = scenario.bodyBytes > 0 ? '["Content-Type"] = "application/octet-stream", ' : '';
  const requests = scenarioRequests(scenario);
  return `local paths = { ${requests.map(([path]) => `"${path}"`).join(', ')} }
local tenants = { ${requests.map(([, tenant]) => `"${tenant}"`).join(', ')} }
local requests = {}
local n = 0
init = function(args)
  local body = ${body}
  for i, tenant in ipairs(tenants) do
    requests[i] = wrk.format("${scenario.method}", paths[i], { ${headers}["X-Tenant-ID"] = tenant }, body)
  end
end
${luaReplay(paceMs)}`;
}

/**
 * The end of every wrk script of the benches: `requests` (formatted in init()) replayed in turn,
 * and with `paceMs` each connection waiting a random 0…2×paceMs between requests.
 */
export function luaReplay(paceMs?: number): string {
  return `request = function()
  n = n % #requests + 1
  return requests[n]
end
${paceMs === undefined ? '' : `delay = function() return math.random(0, ${2 * paceMs}) end\n`}`;
}

/** One request of the scenario's shape must come back 200 with the upstream's whole body. */
export async function checkScenario(scenario: Scenario, port: number, candidate: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${scenario.path}`, {
    method: scenario.method,
    headers: { 'x-tenant-id': scenario.tenants[0]!, ...(scenario.bodyBytes > 0 ? { 'content-type': 'application/octet-stream' } : {}) },
    ...(scenario.bodyBytes > 0 ? { body: 'p'.repeat(scenario.bodyBytes) } : {}),
  });
  const body = await res.arrayBuffer();
  const expected = STATIC_FILES[scenario.path] ?? SMALL_BODY.length;
  if (res.status !== 200 || body.byteLength !== expected) {
    throw new Error(`${candidate} answered ${scenario.name} with ${res.status} and ${body.byteLength} bytes (expected 200 and ${expected})`);
  }
}
