/**
 * An allowed request as a client saw it: when it was sent and when its answer was read. The
 * gateway decided somewhere in between; a test process busy beside other test files can read an
 * answer 100 ms late, so counting by the reading time alone moves requests across window edges.
 */
export type Stamped = readonly [sentAt: number, answeredAt: number];

/** How many of `stamped` were surely decided within [from, to), and how many may have been. */
export function decidedWithin(stamped: readonly Stamped[], from: number, to: number): { surely: number; maybe: number } {
  let surely = 0;
  let maybe = 0;
  for (const [sentAt, answeredAt] of stamped) {
    if (sentAt >= from && answeredAt < to) surely++;
    if (answeredAt >= from && sentAt < to) maybe++;
  }
  return { surely, maybe };
}
