import { describe, expect, it } from 'vitest';
import { abTables } from '../../native-bench/lib/ab.js';
import { measuredRound as run } from '../helpers/measured-round.js';


describe('native-bench A/B table', () => {
  it('pairs ringgate-Nt with ringgate-base-Nt round by round, with the median of the ratios', () => {
    const text = abTables(
      [
        { candidate: 'direct', rounds: [run(50_000, null), run(50_000, null), run(50_000, null)] },
        { candidate: 'ringgate-base-1t', rounds: [run(20_000, 40), run(18_000, 50), run(21_000, 40)] },
        { candidate: 'ringgate-1t', rounds: [run(22_000, 36), run(18_000, 40), run(20_000, 42)] },
      ],
      'abc1234',
    );
    expect(text).toContain('ringgate-1t against ringgate-base-1t (abc1234)');
    expect(text).toContain('| 1 | 40.0 → 36.0 | 0.900× | 20000 → 22000 | 1.100× |');
    expect(text).toContain('| 2 | 50.0 → 40.0 | 0.800× | 18000 → 18000 | 1.000× |');
    expect(text).toContain('| 3 | 40.0 → 42.0 | 1.050× | 21000 → 20000 | 0.952× |');
    // Medians per column: the ratio's median is of the rounds' ratios, not a ratio of medians.
    expect(text).toContain('| median | 40.0 → 40.0 | 0.900× | 20000 → 20000 | 1.000× |');
    expect(text).not.toContain('direct');
  });

  it('prints nothing when a ringgate candidate has no baseline beside it', () => {
    expect(abTables([{ candidate: 'ringgate-2t', rounds: [run(1, 1)] }, { candidate: 'ringgate-base-1t', rounds: [run(1, 1)] }], 'abc1234')).toBe('');
  });

  it('pairs ringgate-redis-Nt with ringgate-Nt, with or without a baseline build', () => {
    const rows = [
      { candidate: 'ringgate-1t', rounds: [run(20_000, 40), run(20_000, 40)] },
      { candidate: 'ringgate-redis-1t', rounds: [run(10_000, 80), run(10_000, 80)] },
    ];
    const text = abTables(rows, null);
    expect(text).toContain('ringgate-redis-1t against ringgate-1t (rate limit counted locally)');
    expect(text).not.toContain('ringgate-1t against');
    expect(abTables(rows, 'abc1234')).toContain('ringgate-redis-1t against ringgate-1t');
  });

  it('pairs ringgate-trace<P>-Nt with ringgate-Nt', () => {
    const text = abTables(
      [
        { candidate: 'ringgate-2t', rounds: [run(30_000, 40)] },
        { candidate: 'ringgate-trace1-2t', rounds: [run(29_000, 41)] },
        { candidate: 'ringgate-trace100-2t', rounds: [run(20_000, 60)] },
      ],
      null,
    );
    expect(text).toContain('ringgate-trace1-2t against ringgate-2t (without tracing)');
    expect(text).toContain('ringgate-trace100-2t against ringgate-2t (without tracing)');
    expect(text).toContain('| 1 | 40.0 → 60.0 | 1.500× | 30000 → 20000 | 0.667× |');
  });
});
