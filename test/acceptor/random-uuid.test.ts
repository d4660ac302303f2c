import { describe, expect, it } from 'vitest';
import { randomUuid } from '../../src/acceptor/random-uuid.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('randomUuid', () => {
  // 1,000 ids cross several refills of the random bytes (256 ids each).
  const ids = Array.from({ length: 1_000 }, () => randomUuid());

  it('makes version 4 UUIDs: lower-case hex, dashes, version and variant bits', () => {
    for (const id of ids) expect(id).toMatch(UUID_V4);
  });

  it('never repeats one, within a batch or across refills', () => {
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('varies every random digit, and the variant digit over its four values', () => {
    for (let at = 0; at < 36; at++) {
      if ([8, 13, 14, 18, 23].includes(at)) continue; // dashes and the version digit
      const seen = new Set(ids.map((id) => id[at]));
      expect(seen.size, `digit ${at}`).toBeGreaterThan(at === 19 ? 3 : 8);
    }
  });
});
