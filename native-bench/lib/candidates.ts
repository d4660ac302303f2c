import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGroup, waitForHttp, type CpuList, type Started } from './proc.js';
import { haproxyConf, nginxProxyConf, startNginx } from './upstream.js';

export interface CandidateContext {
  readonly dir: string;
  readonly port: number;
  readonly upstreamPorts: readonly number[];
  readonly cpus: CpuList;
}

export interface Candidate {
  readonly name: string;
  /** Starts it and resolves once it relays a request; `null` for direct (nothing to start). */
  start(ctx: CandidateContext): Promise<Started | null>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY_HEADERS = { 'x-tenant-id': 'bench-ready' };

const direct: Candidate = { name: 'direct', start: async () => null };

const nginx: Candidate = {
  name: 'nginx',
  async start({ dir, port, upstreamPorts, cpus }) {
    const proxyDir = join(dir, 'nginx-proxy');
    const started = startNginx('nginx', proxyDir, nginxProxyConf(proxyDir, port, upstreamPorts[0]!), cpus);
    await waitForHttp(`http://127.0.0.1:${port}/`, started);
    return started;
  },
};

const haproxy: Candidate = {
  name: 'haproxy',
  async start({ dir, port, upstreamPorts, cpus }) {
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, haproxyConf(port, upstreamPorts[0]!));
    const started = startGroup('haproxy', 'haproxy', ['-db', '-f', file], cpus);
    await waitForHttp(`http://127.0.0.1:${port}/`, started);
    return started;
  },
};

const fastify: Candidate = {
  name: 'fastify-http-proxy',
  async start({ port, upstreamPorts, cpus }) {
    const script = join(ROOT, 'native-bench/candidates/fastify-http-proxy.ts');
    const args = ['--import', 'tsx', script, String(port), `http://127.0.0.1:${upstreamPorts[0]}`];
    const started = startGroup('fastify-http-proxy', process.execPath, args, cpus);
    await waitForHttp(`http://127.0.0.1:${port}/`, started);
    return started;
  },
};

/** Bare uWS + undici dispatch(): the floor ringgate's pipeline is measured against. */
const uwsUndiciMinimal: Candidate = {
  name: 'uws-undici-minimal',
  async start({ port, upstreamPorts, cpus }) {
    const script = join(ROOT, 'native-bench/candidates/uws-undici-minimal.ts');
    const args = ['--import', 'tsx', script, String(port), `http://127.0.0.1:${upstreamPorts[0]}`];
    const started = startGroup('uws-undici-minimal', process.execPath, args, cpus);
    await waitForHttp(`http://127.0.0.1:${port}/`, started);
    return started;
  },
};

/** ringgate from dist/ (the built product), one cluster whose nodes are the upstream's ports. */
function ringgate(threads: number): Candidate {
  return {
    name: `ringgate-${threads}t`,
    async start({ dir, port, upstreamPorts, cpus }) {
      const configPath = join(dir, `ringgate-${threads}t.json`);
      writeFileSync(
        configPath,
        JSON.stringify({
          routes: [{ prefix: '/', cluster: 'bench' }],
          clusters: {
            bench: { nodes: upstreamPorts.map((p, i) => ({ id: `n${i}`, url: `http://127.0.0.1:${p}`, az: `az-${i}` })) },
          },
        }),
      );
      const env = {
        ...process.env,
        GATEWAY_CONFIG: configPath,
        GATEWAY_PORT: String(port),
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_ADMIN_PORT: '0',
        GATEWAY_THREADS: String(threads),
        GATEWAY_LOG_LEVEL: 'warn',
      };
      const started = startGroup(`ringgate-${threads}t`, process.execPath, [join(ROOT, 'dist/main.js')], cpus, env);
      await waitForHttp(`http://127.0.0.1:${port}/`, started, READY_HEADERS);
      return started;
    },
  };
}

export const CANDIDATES: readonly Candidate[] = [direct, nginx, haproxy, fastify, uwsUndiciMinimal, ringgate(1), ringgate(2)];
