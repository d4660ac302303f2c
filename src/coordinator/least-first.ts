/**
 * The indices of the `count` least of the keys (major[i], minor[i]), compared by major, then by
 * minor, then by index, least first, for 0 < count ≤ major.length: what sorting every index and
 * keeping the first `count` gives. Under tenant churn about half the keys are chosen, so what this
 * saves is comparator calls: the cuts come from numeric sorts, which make none, and only the
 * chosen are sorted with one (taken in index order, they are mostly in order already).
 */
export function leastFirst(major: Float64Array, minor: Float64Array, count: number): number[] {
  // Every key below the cuts is chosen, and of those at both cuts, the first in index order.
  const majorCut = major.slice().sort()[count - 1]!;
  const tied = new Float64Array(major.length);
  let tiedCount = 0;
  let below = 0;
  for (let i = 0; i < major.length; i++) {
    if (major[i]! < majorCut) below++;
    else if (major[i] === majorCut) tied[tiedCount++] = minor[i]!;
  }
  const tiedMinors = tied.subarray(0, tiedCount).sort();
  const minorCut = tiedMinors[count - below - 1]!;
  let atCuts = count - below;
  for (let i = 0; tiedMinors[i]! < minorCut; i++) atCuts--;

  const chosen: number[] = [];
  for (let i = 0; i < major.length; i++) {
    const a = major[i]!;
    const b = minor[i]!;
    if (a < majorCut || (a === majorCut && (b < minorCut || (b === minorCut && atCuts-- > 0)))) chosen.push(i);
  }
  return chosen.sort((i, j) => major[i]! - major[j]! || minor[i]! - minor[j]! || i - j);
}
