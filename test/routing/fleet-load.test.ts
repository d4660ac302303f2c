import { describe, expect, it } from 'vitest';
import { FleetLoad, STALE_AFTER_WINDOWS, type InstanceWindow, type WindowSums } from '../../src/routing/fleet-load.js';

const sums = (requests: number, errors5xx = 0, latencyUs = requests * 1000): WindowSums => ({ requests, errors5xx, latencyUs });

function published(window: number, tenants: Record<string, WindowSums>, windowMs = 200): InstanceWindow {
  return { window, windowMs, tenants: new Map(Object.entries(tenants)) };
}

describe('fleet load', () => {
  it('adds the fresh instances\' latest sums per tenant, latency as sums so averages weigh by requests', () => {
    const fleet = new FleetLoad(200);
    // Window numbers are each instance's own: far apart, and it does not matter.
    fleet.receive('a', published(7, { t: sums(10, 1, 100_000) }), 1);
    fleet.receive('b', published(90_001, { t: sums(30, 0, 1_500_000), u: sums(2) }), 1);
    fleet.receive('a', published(8, { t: sums(10, 1, 100_000) }), 2);
    fleet.receive('b', published(90_002, { t: sums(30, 0, 1_500_000), u: sums(2) }), 2);
    expect(fleet.instances(3)).toBe(2);
    const merged = fleet.remoteSums(3);
    expect(merged.get('t')).toEqual({ requests: 40, errors5xx: 1, latencyUs: 1_600_000 });
    expect(merged.get('u')).toEqual(sums(2));
    expect(merged.size).toBe(2);
  });

  it('counts an instance only once its window number has advanced: a stopped one\'s last publication proves nothing', () => {
    const fleet = new FleetLoad(200);
    fleet.receive('gone', published(41, { t: sums(5) }), 1);
    expect(fleet.instances(2)).toBe(0);
    expect(fleet.remoteSums(2).size).toBe(0);
    // Read again and again, the same number: still nothing, and forgotten once stale.
    for (let w = 2; w <= 1 + STALE_AFTER_WINDOWS; w++) fleet.receive('gone', published(41, { t: sums(5) }), w);
    expect(fleet.remoteSums(2 + STALE_AFTER_WINDOWS).size).toBe(0);
    fleet.receive('gone', published(42, { t: sums(5) }), 2 + STALE_AFTER_WINDOWS);
    // It was forgotten: 42 is a first sighting again, not an advance.
    expect(fleet.instances(3 + STALE_AFTER_WINDOWS)).toBe(0);
  });

  it('keeps the highest window number of each instance: an older or repeated publication read later changes nothing', () => {
    const fleet = new FleetLoad(200);
    fleet.receive('a', published(10, { t: sums(1) }), 1);
    fleet.receive('a', published(12, { t: sums(12) }), 2);
    fleet.receive('a', published(11, { t: sums(11) }), 3);
    fleet.receive('a', published(12, { t: sums(99) }), 3);
    expect(fleet.remoteSums(3).get('t')).toEqual(sums(12));
  });

  it(`drops an instance whose number stood still for more than ${STALE_AFTER_WINDOWS} of our windows, and takes it back once it moves twice`, () => {
    const fleet = new FleetLoad(200);
    fleet.receive('a', published(1, { t: sums(3) }), 1);
    fleet.receive('a', published(2, { t: sums(3) }), 2);
    // Our windows go on, its number does not (it stopped, or our reads fail): its sums stand in meanwhile.
    for (let w = 3; w <= 2 + STALE_AFTER_WINDOWS; w++) {
      fleet.receive('a', published(2, { t: sums(3) }), w);
      expect(fleet.remoteSums(w).get('t')).toEqual(sums(3));
    }
    expect(fleet.remoteSums(3 + STALE_AFTER_WINDOWS).size).toBe(0);
    expect(fleet.instances(3 + STALE_AFTER_WINDOWS)).toBe(0);
    fleet.receive('a', published(9, { t: sums(4) }), 4 + STALE_AFTER_WINDOWS);
    expect(fleet.instances(5 + STALE_AFTER_WINDOWS)).toBe(0);
    fleet.receive('a', published(10, { t: sums(4) }), 5 + STALE_AFTER_WINDOWS);
    expect(fleet.remoteSums(6 + STALE_AFTER_WINDOWS).get('t')).toEqual(sums(4));
  });

  it('scales a remote window of another length to ours, and waits for it in proportion before calling it stale', () => {
    const fleet = new FleetLoad(200);
    fleet.receive('slow', published(1, { t: sums(50, 5, 500_000) }, 1000), 1);
    fleet.receive('slow', published(2, { t: sums(50, 5, 500_000) }, 1000), 2);
    expect(fleet.remoteSums(3).get('t')).toEqual({ requests: 10, errors5xx: 1, latencyUs: 100_000 });
    // Its number moves once per 5 of our windows: still fresh 5 × STALE_AFTER_WINDOWS windows on.
    expect(fleet.instances(2 + 5 * STALE_AFTER_WINDOWS)).toBe(1);
    expect(fleet.instances(3 + 5 * STALE_AFTER_WINDOWS)).toBe(0);
    // A shorter remote window is scaled up, but not waited on for less than our own windows.
    fleet.receive('quick', published(1, { t: sums(1) }, 100), 20);
    fleet.receive('quick', published(2, { t: sums(1) }, 100), 21);
    expect(fleet.remoteSums(22).get('t')).toEqual(sums(2));
    expect(fleet.instances(21 + STALE_AFTER_WINDOWS)).toBe(1);
    expect(fleet.instances(22 + STALE_AFTER_WINDOWS)).toBe(0);
  });
});
