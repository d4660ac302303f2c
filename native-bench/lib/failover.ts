/**
 * nginx and HAProxy in front of several nodes, each configured the way a user who expects a node to
 * go bad would: passive failure detection (no active HTTP checks: what the gateway sees in traffic),
 * a read timeout of a few hundred ms, and a retry of an idempotent request on another node. These
 * are what `npm run bench:slow-node` compares ringgate's own defaults with.
 */
import { nginxCommon, nginxHttpCommon, NGINX_PROXY_PASS } from './upstream.js';

/**
 * A read timeout a user would set in front of nodes that answer in a few ms: well above a healthy
 * node's answer (and above the slow node's default 100 ms delay, so a slow 200 is still a success).
 */
export const READ_TIMEOUT_MS = 300;
/** Failures that take a node out (nginx: within fail_timeout; HAProxy: in a row). */
export const FAILS_TO_EJECT = 3;
/** nginx keeps an ejected node out this long, then tries it with one request (its default). */
export const NGINX_FAIL_TIMEOUT_S = 10;
/** HAProxy's TCP check interval: it brings an ejected node back after `rise` passed checks. */
export const HAPROXY_CHECK_INTER_S = 2;

/**
 * nginx: round robin, `max_fails`/`fail_timeout` on every node, and the next node tried on a
 * connection error, a timeout or a 502/503/504 (each such failure also counts towards max_fails).
 * `detect: false` is the reference that does nothing about a bad node: max_fails=0, no retry.
 */
export function nginxFailoverConf(dir: string, port: number, nodePorts: readonly number[], detect: boolean): string {
  const fails = detect ? `max_fails=${FAILS_TO_EJECT} fail_timeout=${NGINX_FAIL_TIMEOUT_S}s` : 'max_fails=0';
  const retry = detect
    ? `proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_next_upstream_tries ${nodePorts.length};`
    : 'proxy_next_upstream off;';
  return `worker_processes 1;${nginxCommon(dir)}
http {${nginxHttpCommon(dir)}
  upstream backend {
${nodePorts.map((p) => `    server 127.0.0.1:${p} ${fails};`).join('\n')}
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
${NGINX_PROXY_PASS}
      proxy_connect_timeout 1s;
      proxy_read_timeout ${READ_TIMEOUT_MS}ms;
      ${retry}
    }
  }
}
`;
}

/**
 * HAProxy: round robin; every node watched in traffic with `observe layer7` (a 5xx other than
 * 501/505, a timeout or a broken connection is an error) and marked down after FAILS_TO_EJECT errors
 * in a row (the default error-limit, 10 in a row, would almost never trip at a 20% failure rate).
 * `check` is required by `observe`; without `option httpchk` it is a TCP connect, which a degraded
 * node still passes, so a marked-down node comes back after `rise 2` checks. With `l7Retries`, a
 * failed request is retried up to twice on other nodes (`retry-on` + `option redispatch 1`), as
 * nginx does. HAProxy before 3.1 adjusts health only after L7 retries, and only for the last node
 * tried (haproxy/haproxy#2679), so a 503 retried elsewhere never counts against the node that gave it.
 */
export function haproxyFailoverConf(port: number, nodePorts: readonly number[], l7Retries: boolean): string {
  const server = `check inter ${HAPROXY_CHECK_INTER_S}s rise 2 fall 3 observe layer7 error-limit ${FAILS_TO_EJECT} on-error mark-down`;
  const retries = l7Retries
    ? `
  retries ${nodePorts.length - 1}
  retry-on conn-failure empty-response response-timeout 502 503 504
  option redispatch 1`
    : '';
  return `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server ${READ_TIMEOUT_MS}ms
  option http-keep-alive
  http-reuse always
  option forwardfor${retries}
frontend fe
  bind 127.0.0.1:${port}
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  default_backend be
backend be
  balance roundrobin
${nodePorts.map((p, i) => `  server n${i} 127.0.0.1:${p} ${server}`).join('\n')}
`;
}
