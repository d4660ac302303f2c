import { describe, expect, it } from 'vitest';
import { OpenRequests } from '../../src/acceptor/open-requests.js';

describe('OpenRequests', () => {
  it('calls back at once when no request is open', () => {
    const requests = new OpenRequests();
    const told: string[] = [];
    requests.afterOpenEnd(() => told.push('now'));
    expect(told).toEqual(['now']);
  });

  it('waits for the requests open at the call, not for those begun after it', () => {
    const requests = new OpenRequests();
    const told: string[] = [];
    const first = requests.begin();
    const second = requests.begin();
    requests.afterOpenEnd(() => told.push('older ended'));
    const later = requests.begin();
    expect(requests.end(first)).toBe(false);
    expect(told).toEqual([]);
    expect(requests.end(second)).toBe(false);
    expect(told).toEqual(['older ended']);
    expect(requests.count).toBe(1);
    expect(requests.end(later)).toBe(true);
    expect(told).toEqual(['older ended']);
  });

  it('tells each caller once its own requests and older ones ended, not waiting for later ones', () => {
    const requests = new OpenRequests();
    const told: string[] = [];
    const a = requests.begin();
    requests.afterOpenEnd(() => told.push('first'));
    const b = requests.begin();
    requests.afterOpenEnd(() => told.push('second'));
    requests.end(a);
    expect(told).toEqual(['first']);
    requests.end(b);
    expect(told).toEqual(['first', 'second']);
    // Ended in the other order: the later caller waits for the older request too.
    const c = requests.begin();
    requests.afterOpenEnd(() => told.push('third'));
    const d = requests.begin();
    requests.afterOpenEnd(() => told.push('fourth'));
    requests.end(d);
    expect(told).toEqual(['first', 'second']);
    requests.end(c);
    expect(told).toEqual(['first', 'second', 'third', 'fourth']);
  });

  it('tells a caller while requests begun after it stay open, call after call', () => {
    const requests = new OpenRequests();
    const told: number[] = [];
    // Each period a new long request begins, the caller of the period before asks, and the oldest ends.
    const open = [requests.begin()];
    for (let period = 0; period < 10; period++) {
      open.push(requests.begin());
      requests.afterOpenEnd(() => told.push(period));
      requests.end(open.shift()!);
    }
    expect(told).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    requests.end(open.shift()!);
    expect(told).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(requests.count).toBe(0);
  });

  it('adds a caller to the newest closed generation when none began since', () => {
    const requests = new OpenRequests();
    const told: string[] = [];
    const a = requests.begin();
    requests.afterOpenEnd(() => told.push('first'));
    requests.afterOpenEnd(() => told.push('second'));
    requests.end(a);
    expect(told).toEqual(['first', 'second']);
  });

  it('says when the last open request ended', () => {
    const requests = new OpenRequests();
    const a = requests.begin();
    const b = requests.begin();
    expect(requests.end(a)).toBe(false);
    expect(requests.end(b)).toBe(true);
    expect(requests.count).toBe(0);
  });
});
