/**
 * The backend of `npm run bench:hot-get`: one plain node:http server listening on several ports
 * (the nodes of a 3-node cluster), answering every request `delayMs` late with 200 and the nginx
 * upstream's 1 KiB body. A backend whose answer takes a few ms of its own work (a database read, a
 * render) looks like this; stock nginx cannot delay an answer (no echo_sleep), hence Node.
 *
 * It counts what it receives, per port, so the bench measures upstream calls where they land,
 * whatever the gateway in front believes it sent. It also counts the connections that carried them: a
 * gateway that keeps too few idle upstream connections opens new ones under load, which costs the
 * backend CPU and would otherwise go unseen. GET `statsPath` (on any port) answers the counts and is
 * not counted itself; the load never asks for it.
 *
 * usage: node --import tsx hot-get-server.ts '<HotGetServerArgs as JSON>' (lib/hot-get.ts starts it)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
// Types only: the lib's modules start timers and signal handlers this process has no use for.
import type { HotGetServerArgs, HotGetStats } from '../lib/hot-get.js';

const args = JSON.parse(process.argv[2] ?? 'null') as HotGetServerArgs | null;
if (args === null) throw new Error("usage: hot-get-server.ts '<HotGetServerArgs as JSON>'");
const { ports, delayMs, statsPath, body } = args;
const requests: Record<string, number> = Object.fromEntries(ports.map((p) => [String(p), 0]));
let connections = 0;
/** Connections that carried load: the bench's own stats readings open connections too. */
const loaded = new WeakSet<object>();

for (const port of ports) {
  const server = createServer((req, res) => {
    if (req.url === statsPath) {
      const stats: HotGetStats = { requests: Object.values(requests).reduce((a, b) => a + b, 0), perPort: requests, connections };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      return;
    }
    requests[String((req.socket.address() as AddressInfo).port)]!++;
    if (!loaded.has(req.socket)) {
      loaded.add(req.socket);
      connections++;
    }
    // Read the request to its end (nothing for a GET) so the connection can carry the next one.
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    }, delayMs);
  });
  // Gateways keep idle connections in their pools for long; with Node's 5 s default this server
  // would close them between a run's warm-up check and its load, and the gateway's next request
  // would meet a closed socket. The nginx upstream keeps 300 s too.
  server.keepAliveTimeout = 300_000;
  server.headersTimeout = 301_000;
  // Gateways in front hold up to a few hundred connections; Node's default backlog is 511.
  server.listen({ port, host: '127.0.0.1', backlog: 4096 });
}
// SIGTERM's default action ends the process: there is nothing to flush.
