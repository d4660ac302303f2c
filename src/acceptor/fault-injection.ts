import { Forwarder } from './phases/forward.js';
import type { RequestContext } from './request-context.js';

/** With GATEWAY_FAULT_INJECTION=1, requests under this path crash their acceptor thread. */
export const FAULT_CRASH_PATH = '/_ringgate/fault/crash-thread/';

/**
 * Test-only (GATEWAY_FAULT_INJECTION, off by default; the acceptor then uses the plain Forwarder,
 * so this costs nothing): a request under FAULT_CRASH_PATH throws out of the request path after
 * select gave it to a node and before the upstream exchange exists, as a bug there would. The
 * thread dies with the node counting a request nobody will finish: the coordinator must take it back.
 */
export class CrashingForwarder extends Forwarder {
  override run(ctx: RequestContext): void {
    if (ctx.path.startsWith(FAULT_CRASH_PATH)) throw new Error('injected fault: acceptor thread crash in the request path');
    super.run(ctx);
  }
}
