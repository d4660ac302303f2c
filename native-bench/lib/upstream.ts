import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGroup, waitForHttp, type CpuList, type Started } from './proc.js';

/** The fixed bodies every candidate relays: 1 KiB from `return 200`, 64 KiB and 1 MiB from static files. */
export const SMALL_BODY = 'x'.repeat(1024);
export const STATIC_FILES: Readonly<Record<string, number>> = { '/64k': 64 * 1024, '/1m': 1024 * 1024 };
/** Request bodies up to this size are taken by the upstream and every proxy (nginx's default is 1 MiB exactly). */
const MAX_REQUEST_BODY = '4m';
/** nginx's stub_status on the upstream: no load is sent there, so its request count is the load's. */
const STATUS_PATH = '/_bench/nginx-status';

/**
 * A scratch directory for one run. nginx workers drop root's privileges, so they must be able to
 * walk into it to serve the static file (mkdtemp makes it 0700).
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** nginx writes temp files and its pid under its prefix; never the system service's paths. */
export function nginxCommon(dir: string): string {
  return `
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
daemon off;
master_process on;
events { worker_connections 8192; }`;
}

export function nginxHttpCommon(dir: string): string {
  return `
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_max_body_size ${MAX_REQUEST_BODY};`;
}

export function startNginx(name: string, dir: string, conf: string, cpus: CpuList): Started {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  return startGroup(name, 'nginx', ['-p', dir, '-c', file, '-e', join(dir, 'error.log')], cpus);
}

/**
 * The one upstream all candidates share: nginx, 1 worker, keep-alive, `return 200` with a 1 KiB
 * body on every path (any method, so POSTs are read and answered too) and the static files.
 * It listens on several ports so ringgate's cluster has several nodes, as in production.
 */
export async function startUpstream(dir: string, ports: readonly number[], cpus: CpuList): Promise<Started> {
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  for (const [path, bytes] of Object.entries(STATIC_FILES)) writeFileSync(join(www, path.slice(1)), Buffer.alloc(bytes, 'y'));

  const conf = `worker_processes 1;${nginxCommon(dir)}
http {${nginxHttpCommon(dir)}
  server {
${ports.map((p) => `    listen 127.0.0.1:${p} backlog=4096;`).join('\n')}
${Object.keys(STATIC_FILES).map((path) => `    location = ${path} { root ${www}; default_type application/octet-stream; }`).join('\n')}
    location = ${STATUS_PATH} { stub_status; }
    location / { default_type text/plain; return 200 "${SMALL_BODY}"; }
  }
}
`;
  const started = startNginx('upstream', dir, conf, cpus);
  for (const port of ports) await waitForHttp(`http://127.0.0.1:${port}/`, started);
  return started;
}

/**
 * Requests the upstream has received on all its ports so far, from stub_status. The count includes
 * this reading's own request, so a difference between two readings has one too many.
 */
export async function upstreamRequests(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}${STATUS_PATH}`)).text();
  const counts = /^\s*(\d+) (\d+) (\d+)\s*$/m.exec(text);
  if (!counts) throw new Error(`unexpected stub_status answer:\n${text}`);
  return Number(counts[3]);
}

/** One port, or several: the nodes of a cluster (hot-get puts nginx and HAProxy over three). */
const portList = (ports: number | readonly number[]): readonly number[] => (typeof ports === 'number' ? [ports] : ports);

/**
 * How every nginx proxy of the benches passes a request on: HTTP/1.1 keep-alive upstream, and the
 * X-Forwarded-* headers ringgate sets, so the candidates do the same header work.
 */
export const NGINX_PROXY_PASS = `      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;`;

/**
 * nginx as a reverse proxy: 1 worker, HTTP/1.1 upstream keep-alive, buffers sized for 64 KiB, and
 * the X-Forwarded-* headers ringgate sets, so both do the same header work. Over several nodes,
 * nginx's default round robin. `keepalive`: idle upstream connections nginx keeps (it closes the
 * ones beyond it); a load with more connections than that should raise it, or nginx keeps opening
 * new upstream connections under load.
 */
export function nginxProxyConf(dir: string, port: number, upstreamPorts: number | readonly number[], keepalive = 128): string {
  const servers = portList(upstreamPorts).map((p) => `server 127.0.0.1:${p}; `).join('');
  return `worker_processes 1;${nginxCommon(dir)}
http {${nginxHttpCommon(dir)}
  upstream backend { ${servers}keepalive ${keepalive}; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
${NGINX_PROXY_PASS}
      proxy_buffers 8 16k;
      proxy_buffer_size 16k;
    }
  }
}
`;
}

/**
 * HAProxy: 1 thread, keep-alive both sides, idle upstream connections reused, X-Forwarded-* as
 * ringgate. Over several nodes, HAProxy's default round robin.
 */
export function haproxyConf(port: number, upstreamPorts: number | readonly number[]): string {
  const ports = portList(upstreamPorts);
  return `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
  option forwardfor
frontend fe
  bind 127.0.0.1:${port}
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  default_backend be
backend be
${ports.map((p, i) => `  server ${ports.length === 1 ? 'upstream' : `n${i}`} 127.0.0.1:${p}`).join('\n')}
`;
}

/**
 * A redis-server for the ringgate-redis-* candidates (no persistence, loopback), pinned with the
 * upstream: as on a separate host, its CPU is not the proxy's. Resolves once it answers PING.
 */
export async function startRedisServer(port: number, cpus: CpuList): Promise<Started> {
  const started = startGroup('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], cpus);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && started.child.exitCode === null) {
    const answered = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
      socket.setTimeout(500, () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (answered) return started;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await started.stop();
  throw new Error(`redis-server did not answer PING on ${port}:\n${started.output()}`);
}

const OTLP_SINK = fileURLToPath(new URL('../upstreams/otlp-sink.ts', import.meta.url));

/** The tracing candidates' OTLP/HTTP collector (upstreams/otlp-sink.ts), pinned with the upstream: it answers 200 and keeps nothing. */
export async function startOtlpSink(port: number, cpus: CpuList): Promise<Started> {
  const started = startGroup('otlp-sink', process.execPath, ['--import', 'tsx', OTLP_SINK, String(port)], cpus);
  await waitForHttp(`http://127.0.0.1:${port}/`, started);
  return started;
}
