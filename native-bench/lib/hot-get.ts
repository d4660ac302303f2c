/**
 * The parts of `npm run bench:hot-get` other benches could reuse: the counting backend, the wrk
 * script cycling a few hot URLs for one tenant, and ringgate's config with the route's `multiplex`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startGroup, waitForHttp, type CpuList, type Started } from './proc.js';
import { SMALL_BODY } from './upstream.js';
import { luaList, luaReplay } from './scenarios.js';

const SERVER = fileURLToPath(new URL('../upstreams/hot-get-server.ts', import.meta.url));
/** Where the backend answers its counts; no gateway is sent there, so they count only the load. */
const STATS_PATH = '/_bench/hot-get-stats';
/**
 * One tenant for every request: requests for the same URL are then identical for ringgate's
 * multiplexing key too (a key per tenant would keep tenants apart, which is the point of tenants).
 */
export const HOT_TENANT = 'hot';

/** What hot-get-server.ts is started with, as one JSON argument. */
export interface HotGetServerArgs {
  /** One server, several ports: the nodes of the cluster, one Node process on the backend's CPU. */
  readonly ports: readonly number[];
  readonly delayMs: number;
  readonly statsPath: string;
  readonly body: string;
}

export interface HotGetStats {
  /** Requests received on all ports (upstream calls, whoever sent them), stats readings excluded. */
  readonly requests: number;
  readonly perPort: Readonly<Record<string, number>>;
  /** Connections that carried at least one of those requests. */
  readonly connections: number;
}

export interface HotGetBackend {
  readonly proc: Started;
  stats(): Promise<HotGetStats>;
}

/** Starts the backend on every port and resolves once each answers. */
export async function startHotGetBackend(ports: readonly number[], delayMs: number, cpus: CpuList): Promise<HotGetBackend> {
  const args: HotGetServerArgs = { ports, delayMs, statsPath: STATS_PATH, body: SMALL_BODY };
  const proc = startGroup('hot-get-backend', process.execPath, ['--import', 'tsx', SERVER, JSON.stringify(args)], cpus);
  for (const port of ports) await waitForHttp(`http://127.0.0.1:${port}${STATS_PATH}`, proc);
  const url = `http://127.0.0.1:${ports[0]}${STATS_PATH}`;
  return {
    proc,
    async stats() {
      return (await (await fetch(url)).json()) as HotGetStats;
    },
  };
}

/** The few URLs every client asks for: what a popular page's API calls look like. */
export const hotPaths = (count: number): string[] => Array.from({ length: count }, (_, i) => `/hot/item-${i}`);

/**
 * The wrk script: one request per path, formatted once in init() and replayed in turn by every
 * connection, so at any moment many connections ask for the same URL (the case multiplexing is for)
 * and the load generator spends no CPU building requests.
 */
export function hotGetScript(paths: readonly string[]): string {
  return `local paths = ${luaList(paths)}
local requests = {}
local n = 0
init = function(args)
  for i, path in ipairs(paths) do
    requests[i] = wrk.format("GET", path, { ["X-Tenant-ID"] = "${HOT_TENANT}" })
  end
end
${luaReplay()}`;
}

/**
 * ringgate's config: every path to one cluster of the backend's ports. `multiplex: false` writes no
 * key at all rather than `"multiplex": false`, so the same config runs on builds from before the
 * option existed (the schema rejects keys it does not know).
 */
export function writeHotGetRinggateConfig(path: string, nodePorts: readonly number[], multiplex: boolean): string {
  const nodes = nodePorts.map((p, i) => ({ id: `n${i}`, url: `http://127.0.0.1:${p}`, az: `az-${i}` }));
  const route = { prefix: '/', cluster: 'hot', ...(multiplex ? { multiplex: true } : {}) };
  writeFileSync(path, JSON.stringify({ routes: [route], clusters: { hot: { nodes } } }));
  return path;
}

/**
 * A misconfigured gateway must not be measured as fast: every hot URL, asked as the load asks it,
 * must come back 200 with the backend's whole body.
 */
export async function checkHotGet(port: number, paths: readonly string[], candidate: string): Promise<void> {
  for (const path of paths) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'x-tenant-id': HOT_TENANT } });
    const body = await res.text();
    if (res.status !== 200 || body !== SMALL_BODY) {
      throw new Error(`${candidate} answered GET ${path} with ${res.status} and ${body.length} bytes (expected 200 and ${SMALL_BODY.length})`);
    }
  }
}
