import type { AnsweredCode } from '../errors.js';
import { errorJson, errorStatus, statusLine } from './answers.js';
import type { RequestContext } from './request-context.js';
import { whenSentOrLingered, type RequestBody } from './request-body.js';

/**
 * A failed try nobody retries: a JSON error while the client has had nothing, and a close once
 * it has had the head (followers of a multiplexed call are told the same).
 */
export function answerFailure(ctx: RequestContext, code: AnsweredCode): void {
  if (ctx.client.headWritten) return closeTruncated(ctx, code);
  ctx.status = errorStatus(code);
  ctx.client.answerJson(statusLine(ctx.status), errorJson(code), ctx.hasBody);
  ctx.batch?.fail(code);
}

/**
 * Bytes of the answer were sent: a clean close is the only honest end of a truncated response.
 * Followers of a multiplexed call still holding the answer whole (none of it sent) get `code`.
 */
export function closeTruncated(ctx: RequestContext, code: AnsweredCode): void {
  ctx.status = 502;
  ctx.client.close();
  ctx.batch?.fail(code);
}

/**
 * A failed try nobody retries, its node released: answered at once (answerFailure), but during a
 * streamed upload only once the client has sent the rest, read and dropped (whenSentOrLingered):
 * closing with its bytes unread would reset the connection and lose the answer. Unless the
 * exchange `ended` meanwhile; `done` then ends it.
 */
export function answerFailedTry(ctx: RequestContext, code: AnsweredCode, body: RequestBody | null, ended: () => boolean, done: () => void): void {
  if (body === null || ctx.client.headWritten) {
    answerFailure(ctx, code);
    return done();
  }
  // A body over the limit drops its rest already; any other, the node no longer reads.
  if (code !== 'ERR_BODY_TOO_LARGE') body.dropRest();
  ctx.status = errorStatus(code);
  whenSentOrLingered(body, () => {
    if (ended()) return;
    ctx.client.answerJson(statusLine(ctx.status), errorJson(code), true);
    done();
  });
}
