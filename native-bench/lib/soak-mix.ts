import { checkScenario, luaReplay, scenarioNamed, scenarioRequests, type Scenario } from './scenarios.js';

/** One request of the soak's mix, as wrk sends it. */
export interface MixRequest {
  readonly method: Scenario['method'];
  readonly path: string;
  readonly tenant: string;
  readonly bodyBytes: number;
}

/**
 * The mix's three shapes (the main bench's get-1k, get-64k and post-4k), each sent by the 1,000
 * tenants of tenants-1000 rather than one: ringgate places tenants on its ring, so one tenant would
 * put all load on one node, and the tenant table would never hold more than one entry.
 */
export const MIX_SHAPES: readonly Scenario[] = ['get-1k', 'get-64k', 'post-4k'].map((name) => ({
  ...scenarioNamed(name),
  tenants: scenarioNamed('tenants-1000').tenants,
}));

export const describeMix = (): string =>
  `GET / (1 KiB answer), GET /64k and POST / with a 4 KiB body in equal numbers, interleaved request by request, ` +
  `${scenarioNamed('tenants-1000').tenants.length.toLocaleString('en')} tenants in turn, every GET with its own query`;

/**
 * The requests wrk cycles through: the shapes interleaved one by one (a 1 KiB read, a 64 KiB read,
 * a 4 KiB upload, the next tenant's …), so every second of the soak carries the same mix. GETs keep
 * scenarioRequests' distinct queries: no two reads in flight are identical, so the configured
 * `multiplex` relays each one instead of answering many from one upstream call.
 */
export function mixRequests(): MixRequest[] {
  const perShape = MIX_SHAPES.map((shape) =>
    scenarioRequests(shape).map(([path, tenant]): MixRequest => ({ method: shape.method, path, tenant, bodyBytes: shape.bodyBytes })),
  );
  const length = Math.max(...perShape.map((requests) => requests.length));
  // Shorter lists wrap, so every shape keeps a third of the requests whatever scenarioRequests returns.
  return Array.from({ length }, (_, i) => perShape.map((requests) => requests[i % requests.length]!)).flat();
}

const luaList = (values: ReadonlyArray<string | number>): string =>
  `{ ${values.map((v) => (typeof v === 'number' ? String(v) : `"${v}"`)).join(', ')} }`;

/**
 * The wrk script of the mix, built like scenarios.ts's wrkScript: every request formatted once in
 * init() and replayed, so wrk spends no CPU building them (its CPU is the nodes' CPU here). With
 * `paceMs`, each connection waits a random 0…2×paceMs between requests, as the main bench's paced
 * runs do (random, because a fixed delay keeps the connections in step and turns load into bursts).
 */
export function mixScript(requests: readonly MixRequest[], paceMs?: number): string {
  return `local methods = ${luaList(requests.map((r) => r.method))}
local paths = ${luaList(requests.map((r) => r.path))}
local tenants = ${luaList(requests.map((r) => r.tenant))}
local sizes = ${luaList(requests.map((r) => r.bodyBytes))}
local requests = {}
local n = 0
init = function(args)
  for i, tenant in ipairs(tenants) do
    if sizes[i] > 0 then
      requests[i] = wrk.format(methods[i], paths[i], { ["Content-Type"] = "application/octet-stream", ["X-Tenant-ID"] = tenant }, string.rep("p", sizes[i]))
    else
      requests[i] = wrk.format(methods[i], paths[i], { ["X-Tenant-ID"] = tenant }, nil)
    end
  end
end
${luaReplay(paceMs)}`;
}

/** Before any load, ringgate must answer each shape with 200 and the whole body. */
export async function checkMix(port: number): Promise<void> {
  for (const shape of MIX_SHAPES) await checkScenario(shape, port, 'ringgate');
}
