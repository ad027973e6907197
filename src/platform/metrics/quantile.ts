/** One bucket of a Prometheus histogram: its upper bound (`le`) and the observations at or below it (cumulative). */
export interface Bucket {
  upper: number;
  count: number;
}

/**
 * A bucket's upper bound from its `le` label: a string in the exposition format (`+Inf` included), a number in
 * prom-client's own values. NaN when the label is missing or not a number.
 */
export function upperBoundOf(labels: Record<string, unknown>): number {
  const le = labels.le;
  if (le === '+Inf') return Number.POSITIVE_INFINITY;
  if (typeof le === 'number') return le;
  return typeof le === 'string' && le.trim() !== '' ? Number(le) : Number.NaN;
}

/**
 * The q-quantile of a histogram as Prometheus's histogram_quantile computes it: linear interpolation inside the
 * bucket that holds the rank, starting from 0 for the lowest bucket (from its bound when that is ≤ 0); a rank in
 * the +Inf bucket gives the highest finite bound. No value (null) without a +Inf bucket, with fewer than two
 * buckets or with no observations. `buckets` are cumulative, sorted by bound; counts that dip (rates of buckets
 * taken at slightly different moments) are read as monotonic. The input is not changed. As in Prometheus, q < 0
 * gives −Inf and q > 1 +Inf.
 */
export function bucketQuantile(q: number, buckets: readonly Bucket[]): number | null {
  if (buckets.length < 2 || buckets[buckets.length - 1]!.upper !== Number.POSITIVE_INFINITY) return null;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const counts: number[] = [];
  let max = 0;
  for (const b of buckets) {
    max = Math.max(max, b.count);
    counts.push(max);
  }
  const total = counts[counts.length - 1]!;
  if (total === 0) return null;
  let rank = q * total;
  const i = counts.findIndex((c) => c >= rank);
  if (i === buckets.length - 1) return buckets[buckets.length - 2]!.upper;
  const upper = buckets[i]!.upper;
  if (i === 0 && upper <= 0) return upper;
  let start = 0;
  let count = counts[i]!;
  if (i > 0) {
    start = buckets[i - 1]!.upper;
    count -= counts[i - 1]!;
    rank -= counts[i - 1]!;
  }
  // Only q = 0 over an empty first bucket lands in a bucket with nothing in it: its start.
  return count > 0 ? start + (upper - start) * (rank / count) : start;
}
