/**
 * The @fastify/http-proxy baseline, configured as its README shows (every path to one upstream),
 * plus the X-Forwarded-* headers ringgate sets, so both do the same header work.
 * usage: node --import tsx fastify-http-proxy.ts PORT UPSTREAM_URL
 */
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const [port, upstream] = process.argv.slice(2);
if (port === undefined || upstream === undefined) throw new Error('usage: fastify-http-proxy.ts PORT UPSTREAM_URL');
const app = Fastify({ logger: false });
await app.register(proxy, {
  upstream,
  replyOptions: {
    rewriteRequestHeaders: (request, headers) => {
      const prior = headers['x-forwarded-for'];
      return {
        ...headers,
        'x-forwarded-for': prior ? `${String(prior)}, ${request.ip}` : request.ip,
        'x-forwarded-proto': 'http',
        'x-forwarded-host': request.headers.host ?? '',
      };
    },
  },
});
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
