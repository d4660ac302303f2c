/**
 * The @fastify/http-proxy baseline, configured as its README shows: every path to one upstream.
 * usage: node --import tsx fastify-http-proxy.ts PORT UPSTREAM_URL
 */
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const [port, upstream] = process.argv.slice(2);
if (port === undefined || upstream === undefined) throw new Error('usage: fastify-http-proxy.ts PORT UPSTREAM_URL');
const app = Fastify({ logger: false });
await app.register(proxy, { upstream });
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
