import type { AdminRoutes } from '../../src/coordinator/admin-server.js';

/** Admin routes that answer every read empty and take every write: a test overrides the ones it watches. */
export function stubAdminRoutes(): AdminRoutes {
  return {
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    tenants: () => ({ tenants: [] }),
    nodes: () => ({ nodes: [] }),
    pushNodes: () => ({ ok: true, applied: 1 }),
    reload: () => ({ ok: true, needRestart: [] }),
    tenant: () => undefined,
    dashboard: () => ({}),
  };
}
