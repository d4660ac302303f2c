import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { DemoBackends } from '../../src/coordinator/demo-backends.js';
import type { NodeMonitor } from '../../src/coordinator/node-monitor.js';
import { Reloader } from '../../src/coordinator/reloader.js';
import type { Topology, TopologyState } from '../../src/coordinator/topology.js';

/** A reloader whose node monitor throws once the topology is applied: a bug past the point of no return. */
function failingAfterApply() {
  // The demo config, read as at start-up: a reload of it changes nothing, and applies.
  const config = loadConfig({});
  const state = { config, numbering: { members: {} }, rings: new Map(), ringBuffers: [], epoch: 2 } as unknown as TopologyState;
  const broadcast = vi.fn();
  const reloader = new Reloader({
    load: () => config,
    topology: { state, apply: () => state } as unknown as Topology,
    nodeMonitor: {
      reconfigure: () => {
        throw new TypeError('a bug');
      },
    } as unknown as NodeMonitor,
    demo: { appendTo: (loaded: unknown) => loaded, unstartedIn: () => [] } as unknown as DemoBackends,
    broadcast,
    onApplied: vi.fn(),
    log: createLogger('silent'),
  });
  return { reloader, broadcast };
}

describe('Reloader', () => {
  it('answers a reload that throws after it was applied as failed, and throws nothing on into its caller', () => {
    const { reloader } = failingAfterApply();
    const outcome = reloader.reload();
    expect(outcome).toEqual({ ok: false, error: 'applied only in part (a bug): restart the gateway' });
    expect([reloader.ok, reloader.failed]).toEqual([0, 1]);
  });

  it('answers a push that throws after it was applied as refused, uncounted as a reload', () => {
    const { reloader, broadcast } = failingAfterApply();
    expect(reloader.pushNodes({ added: [], removed: [] })).toMatchObject({ ok: false });
    expect(broadcast).not.toHaveBeenCalled();
    expect([reloader.ok, reloader.failed]).toEqual([0, 0]);
  });
});
