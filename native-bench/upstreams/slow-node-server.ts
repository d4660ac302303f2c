/**
 * The degraded node of `npm run bench:slow-node`: a plain node:http server that holds every
 * request `delayMs` before answering, then fails `failPercent` of them at random (a 503, or a TCP
 * reset with failure `reset`) and answers the rest 200 with the nginx upstream's body (1 KiB, or its
 * static file's bytes on /64k and /1m, so a node of a mixed load answers every shape alike). A node
 * whose own dependency has gone slow and that sheds part of its load looks like this. Node rather
 * than nginx because stock nginx cannot delay an answer (no echo_sleep in Debian's nginx-light).
 *
 * It counts every request it receives, so the bench knows how many reached it whatever the gateway
 * in front says; GET `statsPath` answers the counts and is not counted itself.
 *
 * usage: node --import tsx slow-node-server.ts '<SlowNodeArgs as JSON>' (lib/slow-node.ts starts it)
 */
import { createServer } from 'node:http';
// Types only: the lib's modules start timers and signal handlers this process has no use for.
import type { SlowNodeArgs, SlowNodeStats } from '../lib/slow-node.js';

const args = JSON.parse(process.argv[2] ?? 'null') as SlowNodeArgs | null;
if (args === null) throw new Error("usage: slow-node-server.ts '<SlowNodeArgs as JSON>'");
const { port, delayMs, failPercent, failure, statsPath, body, files } = args;
// Filled with 'y' like the upstream's files; built once, every answer shares them.
const fileBodies = new Map(Object.entries(files).map(([path, bytes]) => [path, Buffer.alloc(bytes, 'y')]));
const stats: { requests: number; failed: number } = { requests: 0, failed: 0 };

const server = createServer((req, res) => {
  if (req.url === statsPath) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats satisfies SlowNodeStats));
    return;
  }
  stats.requests++;
  // Read the request to its end (nothing for a GET) so the connection can carry the next one.
  req.resume();
  setTimeout(() => {
    if (Math.random() * 100 >= failPercent) {
      const file = fileBodies.get(req.url!.split('?', 1)[0]!);
      if (file === undefined) res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
      else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(file);
      return;
    }
    stats.failed++;
    if (failure === '503') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('slow node shedding load');
    } else if (!req.socket.destroyed) {
      // The gateway may have given up on this request already (its read timeout) and closed.
      req.socket.resetAndDestroy();
    }
  }, delayMs);
});

// Gateways keep idle connections in their pools for long; with Node's 5 s default this server would
// close them under a gateway that stopped sending here for a while, and the gateway's next request
// would meet a closed socket: a failure the bench did not ask for. The nginx upstream keeps 300 s.
server.keepAliveTimeout = 300_000;
server.headersTimeout = 301_000;
// SIGTERM's default action ends the process: there is nothing to flush.
server.listen(port, '127.0.0.1');
