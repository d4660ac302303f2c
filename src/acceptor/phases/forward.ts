import type { Settings } from '../../config/schema.js';
import { formatAddress } from '../client-address.js';
import type { RequestContext } from '../request-context.js';
import { readWholeBody, streamRequestBody } from '../request-body.js';
import { UpstreamExchange, type ExchangeOwner } from '../upstream-exchange.js';

/**
 * The forward phase: the X-Forwarded-* headers, then the request goes to the chosen node's pool
 * with its body read whole (declared and small: sent with the head in one write) or streamed with
 * backpressure. The respond phase is the exchange's: it streams the answer back.
 */
export class Forwarder {
  readonly #owner: ExchangeOwner;
  readonly #bufferBodyBytes: number;
  readonly #maxBodyBytes: number;

  constructor(settings: Readonly<Settings>, owner: ExchangeOwner) {
    this.#owner = owner;
    this.#bufferBodyBytes = settings.bufferBodyBytes;
    this.#maxBodyBytes = settings.maxBodyBytes;
  }

  run(ctx: RequestContext): void {
    const plan = ctx.plan!;
    const client = formatAddress(ctx.client.remoteAddress());
    const headers = ctx.headers;
    headers.push(
      'x-forwarded-for',
      ctx.forwardedFor === '' ? client : `${ctx.forwardedFor}, ${client}`,
      'x-forwarded-proto',
      'http',
      'x-forwarded-host',
      ctx.host,
    );
    const exchange = new UpstreamExchange(ctx, this.#owner);
    const pool = plan.pools[ctx.member]!;
    const { target: path, method } = ctx;
    if (!ctx.hasBody) {
      pool.dispatch({ path, method, headers, body: null }, exchange);
    } else if (!ctx.chunked && ctx.contentLength <= this.#bufferBodyBytes) {
      readWholeBody(ctx.client, ctx.contentLength, (body) => {
        if (exchange.over) return;
        pool.dispatch({ path, method, headers, body }, exchange);
      });
    } else {
      const body = streamRequestBody(ctx.client, this.#maxBodyBytes);
      exchange.attachBody(body);
      pool.dispatch({ path, method, headers, body: body.stream }, exchange);
    }
  }
}
