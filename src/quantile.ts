// Quantiles the way every report of tsnet states them: nearest rank, the element at floor(q·n) of
// the sorted values (the median of an even count is the upper middle one). Pure.

/** The q-quantiles (0 ≤ q ≤ 1) of `values`, sorted once; null for each when there are none. */
export function quantiles(values: readonly number[], qs: readonly number[]): Array<number | null> {
  const sorted = [...values].sort((a, b) => a - b);
  return qs.map((q) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!));
}

export const quantile = (values: readonly number[], q: number): number | null => quantiles(values, [q])[0]!;
