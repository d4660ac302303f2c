import { describe, expect, it } from 'vitest';
import { BreakerState } from '../../src/resilience/breaker.js';
import { CircuitGate } from '../../src/routing/circuit-gate.js';
import { Verdict } from '../../src/routing/selection.js';
import { beginProbePeriod, ClusterBreakers, createBreakerTable, probeTokens, setBreakerState } from '../../src/shm/breaker-table.js';

/** A gate over a two-node cluster's breakers, counting how often it reads their words. */
function setup() {
  const table = createBreakerTable(2);
  const reads = { state: 0, other: 0 };
  class Counted extends ClusterBreakers {
    override state(member: number): BreakerState {
      reads.state++;
      return super.state(member);
    }
    override probesLeft(member: number): number {
      reads.other++;
      return super.probesLeft(member);
    }
    override probePeriod(member: number): number {
      reads.other++;
      return super.probePeriod(member);
    }
    override takeProbe(member: number, period: number): number {
      reads.other++;
      return super.takeProbe(member, period);
    }
  }
  const gate = new CircuitGate(new Counted(table, [0, 1]), null);
  return { table, gate, reads };
}

describe('circuit gate', () => {
  it('admits a closed node on one read of its state, and a half-open one only with a token', () => {
    const { table, gate, reads } = setup();
    gate.begin();
    expect(gate.admit(0)).toBe(true);
    expect([gate.tookProbe, gate.sawOpen]).toEqual([false, false]);
    expect(reads).toEqual({ state: 1, other: 0 });
    beginProbePeriod(table, 1);
    setBreakerState(table, 1, BreakerState.HalfOpen, 1);
    expect(gate.admit(1)).toBe(true);
    expect(gate.tookProbe).toBe(true);
    expect(probeTokens(table, 1)).toBe(0);
    expect(gate.admit(1)).toBe(false);
    expect([gate.tookProbe, gate.sawOpen]).toEqual([false, true]);
  });

  it('refuses at admit a node whose breaker opened after its verdict, as the verdict refuses an open one', () => {
    const { table, gate } = setup();
    gate.begin();
    expect(gate.verdict(0, 0)).toBe(Verdict.Accept);
    // The coordinator opens it between the walk's verdict and the admit: no token, no request.
    setBreakerState(table, 0, BreakerState.Open, 0);
    expect(gate.admit(0)).toBe(false);
    // So the walk goes on to another node, or answers ERR_CIRCUIT_OPEN (select.ts).
    expect([gate.tookProbe, gate.sawOpen]).toEqual([false, true]);

    // Half-open at the verdict, open by the admit (a probe failed): refused too.
    beginProbePeriod(table, 1);
    setBreakerState(table, 1, BreakerState.HalfOpen, 2);
    gate.begin();
    expect(gate.verdict(1, 0)).toBe(Verdict.Accept);
    setBreakerState(table, 1, BreakerState.Open, 0);
    expect(gate.admit(1)).toBe(false);
    expect([gate.tookProbe, gate.sawOpen]).toEqual([false, true]);
    // Its state was read at the admit: once closed, it is admitted again.
    setBreakerState(table, 0, BreakerState.Closed, 0);
    expect(gate.admit(0)).toBe(true);
  });

  it('admits a half-open node that closed between the read of its state and the take of a token', () => {
    const table = createBreakerTable(1);
    class ClosingMidway extends ClusterBreakers {
      override takeProbe(member: number, period: number): number {
        // The coordinator closes the node here: its tokens are zeroed first, then its state.
        setBreakerState(table, member, BreakerState.Closed, 0);
        return super.takeProbe(member, period);
      }
    }
    const gate = new CircuitGate(new ClosingMidway(table, [0]), null);
    beginProbePeriod(table, 0);
    setBreakerState(table, 0, BreakerState.HalfOpen, 1);
    gate.begin();
    // No token (none is needed now), and not refused: a lone node would have answered ERR_CIRCUIT_OPEN.
    expect(gate.admit(0)).toBe(true);
    expect([gate.tookProbe, gate.sawOpen]).toEqual([false, false]);
  });
});
