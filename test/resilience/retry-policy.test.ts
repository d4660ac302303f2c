import { describe, expect, it } from 'vitest';
import { IDEMPOTENT_METHODS, retryBudget, retryReasonIndex, RetryPolicy } from '../../src/resilience/retry-policy.js';

const policy = (overrides: Partial<ConstructorParameters<typeof RetryPolicy>[0]> = {}) =>
  new RetryPolicy({ max: 2, on: ['refused', 'reset', 'timeout'], backoffBaseMs: 25, backoffCapMs: 250, ...overrides }, 30_000);

describe('retry policy', () => {
  it('backs off with full jitter: random(0, min(cap, base × 2^retry))', () => {
    const p = policy();
    expect([0, 1, 2, 3, 4, 5].map((retry) => p.backoffMs(retry, () => 1))).toEqual([25, 50, 100, 200, 250, 250]);
    expect(p.backoffMs(3, () => 0)).toBe(0);
    expect(p.backoffMs(1, () => 0.5)).toBe(25);
  });

  it('retries only on the reasons it names; statuses only when named', () => {
    const p = policy();
    expect(p.retriesOn(retryReasonIndex('refused'))).toBe(true);
    expect(p.retriesOn(retryReasonIndex('503'))).toBe(false);
    expect(p.retriesStatuses).toBe(false);
    const withStatus = policy({ on: ['503'] });
    expect(withStatus.retriesOn(retryReasonIndex('503'))).toBe(true);
    expect(withStatus.retriesOn(retryReasonIndex('refused'))).toBe(false);
    expect(withStatus.retriesStatuses).toBe(true);
  });

  it('cuts each try to the per-try timeout and to what is left of the total', () => {
    expect(policy().tryTimeoutMs(1000, 0)).toBe(29_000);
    expect(policy({ perTryTimeoutMs: 500 }).tryTimeoutMs(1000, 0)).toBe(500);
    expect(policy({ perTryTimeoutMs: 500 }).tryTimeoutMs(29_800, 0)).toBe(200);
    expect(policy().firstTryTimeoutMs).toBeUndefined();
    expect(policy({ perTryTimeoutMs: 500 }).firstTryTimeoutMs).toBe(500);
  });

  it("keeps retries in flight within 20% of the cluster's requests in flight, at least 3 (Envoy's budget)", () => {
    expect(retryBudget(0, 20, 3)).toBe(3);
    expect(retryBudget(10, 20, 3)).toBe(3);
    expect(retryBudget(100, 20, 3)).toBe(20);
    expect(retryBudget(104, 20, 3)).toBe(20);
    expect(retryBudget(100, 0, 0)).toBe(0);
  });

  it('treats GET, HEAD, OPTIONS, PUT and DELETE as idempotent, not POST or PATCH', () => {
    expect([...IDEMPOTENT_METHODS].sort()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT']);
  });
});
