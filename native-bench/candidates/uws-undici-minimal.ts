/**
 * The floor of ringgate's architecture: a uWS App whose only job is undici dispatch() to one
 * upstream and streaming the answer back (no routing, tenant check, ring, metrics, error mapping,
 * or backpressure handling beyond tryEnd). What ringgate's pipeline costs is measured against it.
 * usage: node --import tsx uws-undici-minimal.ts PORT UPSTREAM_URL
 */
import { createRequire } from 'node:module';
import { Pool, type Dispatcher } from 'undici';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';

const uws = createRequire(import.meta.url)('uWebSockets.js') as typeof import('uWebSockets.js');
const [port, upstream] = process.argv.slice(2);
if (port === undefined || upstream === undefined) throw new Error('usage: uws-undici-minimal.ts PORT UPSTREAM_URL');
const pool = new Pool(upstream, { connections: 128 });
const SKIPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

const app: TemplatedApp = uws.App();
app.any('/*', (res: HttpResponse, req: HttpRequest) => {
  const headers: string[] = [];
  req.forEach((name, value) => headers.push(name, value));
  const path = req.getUrl();
  const query = req.getQuery();
  let aborted = false;
  res.onAborted(() => (aborted = true));
  let status = 0;
  let total = -1;
  const out: string[] = [];
  const handler: Dispatcher.DispatchHandler = {
    onConnect() {},
    onHeaders(code, raw) {
      status = code;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!.toString('latin1');
        const lower = name.toLowerCase();
        if (lower === 'content-length') total = Number(raw[i + 1]!.toString('latin1'));
        else if (!SKIPPED.has(lower)) out.push(name, raw[i + 1]!.toString('latin1'));
      }
      return true;
    },
    onData(chunk) {
      if (!aborted) {
        res.cork(() => {
          res.writeStatus(String(status));
          for (let i = 0; i < out.length; i += 2) res.writeHeader(out[i]!, out[i + 1]!);
          res.tryEnd(chunk, total);
        });
      }
      return true;
    },
    onComplete() {},
    onError() {
      if (!aborted) res.cork(() => res.writeStatus('502').end());
    },
  };
  pool.dispatch({ method: req.getMethod().toUpperCase(), path: query ? `${path}?${query}` : path, headers }, handler);
});
app.listen('127.0.0.1', Number(port), (socket) => {
  if (!socket) throw new Error(`cannot listen on ${port}`);
  process.once('SIGTERM', () => {
    uws.us_listen_socket_close(socket);
    process.exit(0);
  });
});
