import { afterAll, beforeAll, describe, it } from 'vitest';
import { send } from '../helpers/http.js';
import { CASES, casePath, OBSERVE_MS } from '../uws-limits/cases.js';
import { startCase } from '../uws-limits/exchange.js';
import { startTarget, type Target } from '../uws-limits/target.js';
import { judge } from '../uws-limits/verdict.js';

// Limits of uWebSockets.js 20.30 that the gateway cannot answer (test/uws-limits/cases.ts). The
// cases run concurrently so that the idle-timeout ones overlap: the file takes about 13 s.

let target: Target;

beforeAll(async () => {
  target = await startTarget();
});

afterAll(async () => {
  if (target !== undefined && (await target.stop()) !== 0) throw new Error('the gateway did not exit 0 on SIGTERM');
});

describe.concurrent('uWebSockets.js 20.30 limits, as pinned', () => {
  it.for(CASES)('$name', { timeout: OBSERVE_MS + 5_000 }, async (c, { expect }) => {
    const running = startCase(target.port, c);
    await running.sent;
    if (c.pinned.kind === 'idle-close') {
      // While uWS holds this connection, another one on the same (only) thread is served at once.
      const started = performance.now();
      expect((await send(target.port, casePath(`beside-${c.name}`))).status).toBe(200);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(running.isOpen()).toBe(true);
    }
    const forwarded = (): boolean => target.forwarded(casePath(c.name));
    const verdict = judge(c, await running.observed, target.headersSeen(casePath(c.name)));
    expect(verdict.ok, `observed: ${verdict.observed}; pinned: ${verdict.pinned}`).toBe(true);
    expect(forwarded()).toBe(c.pinned.kind === 'answered' && c.pinned.forwarded);
    // The thread keeps serving.
    expect((await send(target.port, casePath(`after-${c.name}`))).status).toBe(200);
  });
});
