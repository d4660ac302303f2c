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

  it('tells each caller once, after its own requests, when calls overlap', () => {
    const requests = new OpenRequests();
    const told: string[] = [];
    const a = requests.begin();
    requests.afterOpenEnd(() => told.push('first'));
    const b = requests.begin();
    requests.afterOpenEnd(() => told.push('second'));
    requests.end(a);
    // The first call's request ended, but one count serves both: the first waits for b too.
    expect(told).toEqual([]);
    requests.end(b);
    expect(told).toEqual(['first', 'second']);
    const c = requests.begin();
    requests.afterOpenEnd(() => told.push('third'));
    requests.end(c);
    expect(told).toEqual(['first', 'second', 'third']);
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
