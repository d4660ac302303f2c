/**
 * The OTLP/HTTP collector of the tracing candidates (BENCH_RINGGATE_TRACING): takes every POST
 * (the spans' batches), reads it to its end and answers 200 with an empty JSON export response,
 * and answers anything else 200 too (the bench's readiness poll). It keeps nothing: what is
 * measured is the gateway's cost of making, batching, encoding and sending spans, not a collector's.
 *
 * usage: node --import tsx otlp-sink.ts PORT (lib/upstream.ts starts it)
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: otlp-sink.ts PORT');

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
