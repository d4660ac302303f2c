import { SMALL_BODY, STATIC_FILES } from './upstream.js';

/** One request shape: every candidate gets exactly the same bytes. */
export interface Shape {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Request body: POSTs only. */
  readonly bodyBytes: number;
  /** Tenant of each request, cycled in order. */
  readonly tenants: readonly string[];
}

/** A named load: one shape, or several interleaved request by request. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly shapes: readonly Shape[];
}

const manyTenants = Array.from({ length: 1000 }, (_, i) => `tenant-${i}`);
const GET_1K: Shape = { method: 'GET', path: '/', bodyBytes: 0, tenants: ['acme'] };
const GET_64K: Shape = { method: 'GET', path: '/64k', bodyBytes: 0, tenants: ['acme'] };
const POST_4K: Shape = { method: 'POST', path: '/', bodyBytes: 4096, tenants: ['acme'] };

export const SCENARIOS: readonly Scenario[] = [
  { name: 'get-1k', description: 'GET, 1 KiB response, one tenant', shapes: [GET_1K] },
  { name: 'get-64k', description: 'GET, 64 KiB response', shapes: [GET_64K] },
  { name: 'post-4k', description: 'POST with a 4 KiB body, 1 KiB response', shapes: [POST_4K] },
  { name: 'get-1m', description: 'GET, 1 MiB response (a download)', shapes: [{ method: 'GET', path: '/1m', bodyBytes: 0, tenants: ['acme'] }] },
  { name: 'post-1m', description: 'POST with a 1 MiB body, 1 KiB response (an upload)', shapes: [{ ...POST_4K, bodyBytes: 1024 * 1024 }] },
  { name: 'tenants-1000', description: 'GET, 1,000 tenants in turn', shapes: [{ ...GET_1K, tenants: manyTenants }] },
  { name: 'hot-tenant', description: 'GET, one tenant sends half the requests, 1,000 others the rest', shapes: [{ ...GET_1K, tenants: manyTenants.flatMap((t) => ['hot', t]) }] },
  // The soak's traffic, at saturation and against the same baselines as the rest: a change that
  // makes each scenario alone cheaper can still make mixed traffic dearer (held answers, 2026-12-04).
  // 1,000 tenants, not one: ringgate places tenants on its ring, and one would load one node only.
  {
    name: 'mix',
    description: 'GET 1 KiB, GET 64 KiB and POST 4 KiB in equal numbers, interleaved request by request, 1,000 tenants in turn (the soak\'s mix)',
    shapes: [GET_1K, GET_64K, POST_4K].map((shape) => ({ ...shape, tenants: manyTenants })),
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

/** One request as wrk sends it. */
export interface BenchRequest {
  readonly method: Shape['method'];
  readonly path: string;
  readonly tenant: string;
  readonly bodyBytes: number;
}

function shapeRequests(shape: Shape): BenchRequest[] {
  const { method, path, bodyBytes, tenants } = shape;
  if (method !== 'GET') return tenants.map((tenant) => ({ method, path, tenant, bodyBytes }));
  const count = Math.max(tenants.length, DISTINCT_READS);
  return Array.from({ length: count }, (_, i) => ({ method, path: `${path}?r=${i}`, tenant: tenants[i % tenants.length]!, bodyBytes }));
}

/**
 * The requests a scenario cycles through. Several shapes are interleaved one by one (a 1 KiB read,
 * a 64 KiB read, a 4 KiB upload, the next tenant's …), so every moment carries the same mix;
 * shorter lists wrap, so each shape keeps its share.
 */
export function scenarioRequests(scenario: Scenario): BenchRequest[] {
  const perShape = scenario.shapes.map(shapeRequests);
  const length = Math.max(...perShape.map((requests) => requests.length));
  return Array.from({ length }, (_, i) => perShape.map((requests) => requests[i % requests.length]!)).flat();
}

/** A Lua table literal of strings and numbers, for the wrk scripts. */
export const luaList = (values: ReadonlyArray<string | number>): string =>
  `{ ${values.map((v) => (typeof v === 'number' ? String(v) : `"${v}"`)).join(', ')} }`;

/**
 * The wrk script for a scenario: requests are formatted once in init() and replayed, so the load
 * generator spends no CPU building them (each body size is built once too). `paceMs` makes each
 * connection wait a random 0…2×paceMs between requests (an open-ish loop at a chosen rate, for
 * latency below saturation); the delay is random because a fixed one keeps every connection in
 * step and turns the load into bursts.
 */
export function wrkScript(scenario: Scenario, paceMs?: number): string {
  const requests = scenarioRequests(scenario);
  return `local methods = ${luaList(requests.map((r) => r.method))}
local paths = ${luaList(requests.map((r) => r.path))}
local tenants = ${luaList(requests.map((r) => r.tenant))}
local sizes = ${luaList(requests.map((r) => r.bodyBytes))}
local requests = {}
local n = 0
init = function(args)
  local bodies = {}
  for i, tenant in ipairs(tenants) do
    local size = sizes[i]
    if size > 0 then
      bodies[size] = bodies[size] or string.rep("p", size)
      requests[i] = wrk.format(methods[i], paths[i], { ["Content-Type"] = "application/octet-stream", ["X-Tenant-ID"] = tenant }, bodies[size])
    else
      requests[i] = wrk.format(methods[i], paths[i], { ["X-Tenant-ID"] = tenant }, nil)
    end
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

/** One request of each of the scenario's shapes must come back 200 with the upstream's whole body. */
export async function checkScenario(scenario: Scenario, port: number, candidate: string): Promise<void> {
  for (const shape of scenario.shapes) {
    const res = await fetch(`http://127.0.0.1:${port}${shape.path}`, {
      method: shape.method,
      headers: { 'x-tenant-id': shape.tenants[0]!, ...(shape.bodyBytes > 0 ? { 'content-type': 'application/octet-stream' } : {}) },
      ...(shape.bodyBytes > 0 ? { body: 'p'.repeat(shape.bodyBytes) } : {}),
    });
    const body = await res.arrayBuffer();
    const expected = STATIC_FILES[shape.path] ?? SMALL_BODY.length;
    if (res.status !== 200 || body.byteLength !== expected) {
      throw new Error(`${candidate} answered ${scenario.name} (${shape.method} ${shape.path}) with ${res.status} and ${body.byteLength} bytes (expected 200 and ${expected})`);
    }
  }
}
