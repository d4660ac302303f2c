import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeIssue } from '../../src/coordinator/push-issue.js';

/** The first issue `schema` finds in `body`, as a push's error says it. */
function issueOf(schema: z.ZodType, body: unknown): string {
  const parsed = schema.safeParse(body);
  if (parsed.success) throw new Error('expected an issue');
  return describeIssue(parsed.error.issues[0]!, body);
}

describe("a push's error", () => {
  it("masks a url's password in a list of urls, shown whole or item by item", () => {
    const body = { url: ['ftp://ops:s3cret@x'] };
    const whole = issueOf(z.object({ url: z.string() }), body);
    expect(whole).toBe('url = ["ftp://ops:***@x"]: Invalid input: expected string, received array');
    const item = issueOf(z.object({ url: z.array(z.number()) }), body);
    expect(item).toBe('url.0 = "ftp://ops:***@x": Invalid input: expected number, received string');
  });

  it('shows other values as they are', () => {
    expect(issueOf(z.object({ id: z.number() }), { id: 'ftp://ops:visible@x' })).toBe('id = "ftp://ops:visible@x": Invalid input: expected number, received string');
  });
});
