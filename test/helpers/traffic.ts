import { send } from './http.js';

export interface Outcome {
  status: number;
  /** The backend that answered (its JSON body's `backend`), for a 200. */
  backend?: string;
}

/**
 * Steady traffic for tests that change nodes under load: `concurrency` loops, each sending one
 * request after another (tenants t-0 … t-96 in turn) to `path` until stopped; every outcome is
 * kept, a refused or reset connection as status 0.
 */
export function steadyTraffic(port: number, path: string, concurrency = 4): { outcomes: Outcome[]; stop(): Promise<void> } {
  const outcomes: Outcome[] = [];
  let running = true;
  let next = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const reply = await send(port, path, { tenant: `t-${next++ % 97}` }).catch(() => ({ status: 0, text: '' }));
      outcomes.push(reply.status === 200 ? { status: 200, backend: (JSON.parse(reply.text) as { backend: string }).backend } : { status: reply.status });
    }
  });
  return {
    outcomes,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
