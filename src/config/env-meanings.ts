/**
 * What each env var means, as the README's env table says it word for word (test/config checks
 * both ways): `ringgate --help` prints it with the default the schema gives. Markdown as in the
 * README; --help strips its backticks and links.
 */
export const ENV_MEANINGS: Readonly<Record<string, string>> = {
  GATEWAY_CONFIG: 'path of the JSON config file',
  GATEWAY_PORT: 'port every acceptor thread listens on; `0` picks a free one, and another if a ringgate starting at the same time got that one too (on Linux, where the listeners of a port can be read)',
  GATEWAY_HOST: 'address the acceptors listen on: an IP address of either family (`::` for both) or a host name, without a port (`ringgate check` refuses anything else)',
  GATEWAY_THREADS: "number of acceptor threads. The default counts the CPUs the process may run on, capped by its cgroup's CPU quota rounded up (a container's `--cpus`, systemd's `CPUQuota=`): more threads than CPUs of time would wait out each other's time slices. The start-up log line shows `threads`, `cpus` and `cpuQuota`; more threads than that are started with a warning",
  GATEWAY_ADMIN_PORT: 'admin port (`/metrics`, `/tenants`, `/dashboard`); `0` picks a free one. Not `GATEWAY_PORT` where both servers may bind one address: the same address in any spelling, a wildcard, or `localhost` beside `127.0.0.1` or `::1` (`127.0.0.1` and `::1` are two)',
  GATEWAY_ADMIN_HOST: 'address of the admin server (an IP address or a host name, as `GATEWAY_HOST`); only `localhost` or a loopback IP literal (127.0.0.0/8, `::1`, `::ffff:127.x.y.z`) counts as loopback, and only if the address it binds to is one: any other name is taken as beyond loopback',
  GATEWAY_ADMIN_TOKEN: 'bearer token (16+ visible ASCII characters, no spaces) the admin write endpoints (`POST /v1/nodes`, `POST /v1/reload`) require, and the read ones (`/metrics`, `/tenants`, `/v1/…`) too when the admin server listens beyond loopback (the `/dashboard` page asks for it); unset, writes are refused unless it listens on loopback, and so are reads beyond it',
  GATEWAY_ZONE: "the gateway's zone (the nodes' `az`): nodes elsewhere cost more in their weight and, with zone affinity, take no requests",
  GATEWAY_ZONE_AFFINITY: '`hard`: with `GATEWAY_ZONE` set, requests go only to nodes of that zone while their mean health is at least `GATEWAY_ZONE_FALLBACK_HEALTH`; `off`: any zone',
  GATEWAY_ZONE_FALLBACK_HEALTH: "under this mean health of a cluster's local nodes (or with none there), its requests may go to other zones",
  GATEWAY_OTHER_ZONE_COST: "zone cost (azCost) of a node outside the gateway's zone; the weight takes 1 / azCost",
  GATEWAY_ZONE_COSTS: 'per-zone costs overriding it, `zone=cost,zone=cost` (in the file: `"zoneCosts": {"zone": cost}`)',
  GATEWAY_BREAKER_TICK_MS: "how often the coordinator evaluates every node's circuit breaker from the shared counts",
  GATEWAY_CONTROL_TTL_MS: 'once a control plane has pushed, no push for this long switches routing to least connections over healthy nodes until pushes resume; pushed health counts this long',
  GATEWAY_DRAIN_MS: 'on SIGTERM/SIGINT, how long in-flight requests may take to finish',
  GATEWAY_ALLOW_UWS_FALLBACK: "`1` lets the gateway run on uWebSockets.js's slow pure-JS fallback",
  GATEWAY_ACCEPTOR_YOUNG_GENERATION_MB: 'V8 young generation of each acceptor thread (a third of it per semi-space); smaller means shorter, more frequent scavenges and less RSS',
  GATEWAY_ACCEPTOR_IDLE_SCAVENGE_PERCENT: "how full (%) an acceptor thread's young generation must be for it to be scavenged at once when the thread's last open request ends, so that scavenges fall between bursts of requests rather than among them; 0 leaves every scavenge to V8",
  GATEWAY_ACCEPTOR_OLD_GENERATION_FLOOR_MB: 'old generation size (MB) below which V8 runs no full GC in an acceptor thread; large bodies need it (each upload chunk, and each socket read of an https answer, is a copy that counts against it until a scavenge), and it costs up to that much RSS per thread; 0 leaves it to V8',
  GATEWAY_FAULT_INJECTION: "tests only, never in production: `1` makes a request under `/_ringgate/fault/crash-thread/` crash the acceptor thread that proxies it, right after it is sent upstream (the coordinator then takes back that thread's in-flight counts and restarts it)",
  GATEWAY_INLINE_ACCEPTOR: '`1` runs one acceptor on the main thread instead of worker threads (`GATEWAY_THREADS` is then 1), so profilers that only follow the main thread, such as 0x, see the request path; for profiling, not production',
  GATEWAY_TENANT_HEADER: 'request header carrying the tenant id',
  GATEWAY_TRUSTED_PROXIES:
    "client addresses or CIDR ranges, comma-separated (`10.0.0.0/8,127.0.0.1`), whose `X-Forwarded-For` (the client then appended), `X-Forwarded-Proto` (its last value, when `http` or `https`; else `http`) and `Forwarded` (the client then appended, as `for=`) reach the node; from anyone else the first two are replaced by the client's address and `http`, and `Forwarded` is dropped. So are `X-Real-IP`, `X-Client-IP`, `True-Client-IP`, `CF-Connecting-IP`, `Fastly-Client-IP`, `X-Cluster-Client-IP`, `X-Forwarded`, `Forwarded-For`, `X-Forwarded-Port`, `-Prefix`, `-Ssl` and `-Scheme`, which only a trusted proxy's requests keep. `X-Forwarded-Host` is always the request's Host, whoever sent one; `X-Original-URL`, `X-Rewrite-URL`, `X-Original-URI` and `X-Forwarded-Uri` (a path some nodes serve instead of the target's) are dropped from everyone",
  GATEWAY_UPSTREAM_TIMEOUT_MS:
    "time for the response head to come once the node has the request whole (a client slow to upload is not the node's delay), all tries and retry waits together, the longest pause inside a body, and the longest wait for a connection to the node while all of them are busy",
  GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS: 'time to open a connection to a node',
  GATEWAY_UPSTREAM_POOL_SIZE: 'keep-alive connections per node, per thread',
  GATEWAY_UPSTREAM_CLIENT: "`h1`: plain-http nodes are reached through the gateway's own HTTP/1.1 client; `undici`: through undici's Pool, as before it (https nodes always are)",
  GATEWAY_DNS_TTL_MS:
    'how often the coordinator resolves the host name of every node url again; a name that moved sends new connections to its new address, while those to the old one finish their requests and close ([upstream TLS and DNS](#upstream-tls-and-dns))',
  GATEWAY_DNS_SERVERS:
    "DNS servers asked for node host names instead of the system's resolver, `ip[:port]` comma-separated (`10.0.0.2,[fd00::2]:53`), as nginx's `resolver`; unset: the system's (getaddrinfo, so `/etc/hosts` counts)",
  GATEWAY_MAX_HEADER_BYTES: 'largest request head (request line and headers) answered, 431 above it; at most 32768. This holds only for a head that arrives in one read: above 4096 bytes, a head that arrives in more than one read is closed without an answer ([uWebSockets.js 20.30 limits](#uwebsocketsjs-2030-limits))',
  GATEWAY_MAX_BODY_BYTES: 'largest request body (declared or streamed). A declared Content-Length has at most 9 digits (uWebSockets.js frames no more), so a larger upload must be sent chunked',
  GATEWAY_BUFFER_BODY_BYTES: 'request bodies with a Content-Length up to this are read whole and sent upstream with the head in one write; larger and chunked bodies stream with backpressure (`0`: always stream)',
  GATEWAY_MAX_TENANTS: 'tenants kept in the shared tenant table; beyond it the least recently seen are evicted',
  GATEWAY_MAX_NODES: 'nodes the shared node table has room for: those of the running config, and those a reload or a push removed while a request begun before may still run (their slots are freed at the next window once none can); a config with more fails to load',
  GATEWAY_RATE_LIMIT_KEYS: 'rate-limit keys counted at once, all threads together (rounded up to buckets of 8); beyond it the least recently used go',
  GATEWAY_RATE_LIMIT_MODE: "where rate limits count: `local` (this process's shared table) or `redis` (every instance sharing `GATEWAY_REDIS_URL`; fails open to `local` while Redis is out of reach)",
  GATEWAY_SHARED_STATE: 'where idempotency keys and tenant load live: `local` (this process) or `redis` (shared by every instance on `GATEWAY_REDIS_URL`; see [tenant load through Redis](#several-instances-tenant-load-through-redis))',
  GATEWAY_REDIS_URL: '`redis://[user:password@]host:port[/db]`, or `rediss://` for TLS; required by either redis mode, never used otherwise',
  GATEWAY_REDIS_TLS_CA_FILE: "PEM file of the CA that signed the Redis server's certificate (`rediss://`); unset: the system's CAs",
  GATEWAY_REDIS_TIMEOUT_MS: 'a Redis call slower than this fails open: the request goes on as if Redis were down (timed from when it is sent: one made while the call before it is out waits for that first, so a request may wait up to about twice this)',
  GATEWAY_REDIS_KEY_PREFIX: 'prefix of every Redis key ringgate writes; instances with the same prefix share limits, keys and load',
  GATEWAY_MULTIPLEX_ENTRIES: "multiplexed calls the threads' shared in-flight table holds at once (rounded up to buckets of 8)",
  GATEWAY_MULTIPLEX_MAX_RESPONSE_BYTES: "largest answer (status, headers, body) requests of other threads read from the arena, and the most of a shared answer held for a call's leader whose client is slower than its node; the table reserves this much per entry (64 MiB by default, touched only as answers are stored; 4 GiB at most with the entries)",
  GATEWAY_IDEMPOTENCY_TTL_MS: "how long a completed request's answer is replayed to a duplicate with its `Idempotency-Key`; at most 24 h",
  GATEWAY_IDEMPOTENCY_ENTRIES: '`Idempotency-Key`s kept at once, all threads together (rounded up to buckets of 8); beyond it the least recently used completed ones go',
  GATEWAY_IDEMPOTENCY_MAX_RESPONSE_BYTES: 'largest answer (status, headers, body) kept for replay; the table reserves this much per entry (32 MiB by default, touched only as keys are stored; 4 GiB at most with the entries)',
  GATEWAY_TENANT_TTL_MS: 'a tenant with no request for this long is evicted',
  GATEWAY_SCORE_WINDOW_MS: 'the scoring window: how often the coordinator harvests the tenant counters, scores tenants, moves shard factors and evicts',
  GATEWAY_ROUTING_MODE: '`adaptive`: shard factor and bounded loads (below); `plain`: every key on its ring owner, as plain consistent hashing',
  GATEWAY_HOT_SCORE: 'a tenant whose smoothed score (ms) reaches this is hot and is spread over k = ⌈1 + score/200⌉ nodes (2 to 5)',
  GATEWAY_ERROR_PENALTY_MS: 'score added per unit of 5xx rate (a tenant with 10% 5xx answers scores 100 more)',
  GATEWAY_DECAY_MODE: "`time`: every window moves a tenant's score halfway to the window's own (an idle window counts 0); `count`: a window moves it by its request count, `GATEWAY_DECAY_REQUESTS` requests as much as one `time` window, and an idle tenant keeps its score",
  GATEWAY_DECAY_REQUESTS: 'with `GATEWAY_DECAY_MODE=count`, the requests that weigh as much as one window',
  GATEWAY_BALANCE_FACTOR: "no node takes a request that lifts its in-flight count above this × its cluster's mean; the request walks on clockwise",
  GATEWAY_METRICS_TOP_TENANTS: 'tenants (highest score first) with `ringgate_tenant_load_score` and `ringgate_tenant_shard_factor` gauges; bounds their label cardinality',
  GATEWAY_LOG_LEVEL: 'pino level: fatal, error, warn, info, debug, trace, silent',
  GATEWAY_ACCESS_LOG: '`on`: a JSON line per request on stdout (see "Access log"); `errors`: only answers of 5xx, 499 (the client left first) or with an `ERR_` code; `off`: none',
  GATEWAY_ACCESS_LOG_SAMPLE: 'with `GATEWAY_ACCESS_LOG=on`, the share (0 to 1) of requests that are not errors logged; errors are always logged',
};

/**
 * The OpenTelemetry vars the config reads (tracing-schema.ts), as the README's OpenTelemetry
 * table says them word for word; not GATEWAY_* settings, so not in the file's `gateway` section.
 */
export const OTEL_ENV_MEANINGS: Readonly<Record<string, string>> = {
  OTEL_EXPORTER_OTLP_ENDPOINT: 'OTLP/HTTP base URL (`http://collector:4318`); spans go to its `/v1/traces`. Tracing is on when this or the next is set, off otherwise',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'full URL spans are sent to, taken as it is; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`',
  OTEL_SDK_DISABLED: '`true` turns tracing off whatever the endpoints say',
  OTEL_SERVICE_NAME: "the spans' `service.name`",
  OTEL_TRACES_SAMPLER: '`always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off` or `parentbased_traceidratio`: which requests are recorded (a parent-based one follows the sampled flag of an incoming `traceparent`)',
  OTEL_TRACES_SAMPLER_ARG: 'for the `traceidratio` samplers, the share of new traces recorded, from 0 to 1',
  OTEL_BSP_SCHEDULE_DELAY: 'ms between two exports of the spans each acceptor thread batched',
  OTEL_BSP_EXPORT_TIMEOUT: 'ms an export may take before it is given up',
  OTEL_BSP_MAX_QUEUE_SIZE: 'spans each thread holds for export; beyond it new ones are dropped, never waited for',
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'spans sent in one export, at most `OTEL_BSP_MAX_QUEUE_SIZE`',
};
