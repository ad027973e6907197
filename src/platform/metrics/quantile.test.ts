import { describe, expect, it } from 'vitest';
import { type Bucket, bucketQuantile, upperBoundOf } from './quantile.js';

const b = (upper: number, count: number): Bucket => ({ upper, count });
const INF = Number.POSITIVE_INFINITY;

describe('bucketQuantile', () => {
  it('interpolates inside the bucket that holds the rank, from 0 for the lowest bucket', () => {
    // 10 in ≤ 1, 10 more in (1, 2], nothing after: the median is 1, the 75th percentile 1.5.
    const buckets = [b(1, 10), b(2, 20), b(INF, 20)];
    expect(bucketQuantile(0.5, buckets)).toBe(1);
    expect(bucketQuantile(0.75, buckets)).toBe(1.5);
    expect(bucketQuantile(0.25, buckets)).toBe(0.5);
    // 100 observations: 50 ≤ 0.1, 90 ≤ 0.5, 99 ≤ 1. Rank 70 is half-way through (0.1, 0.5].
    const latencies = [b(0.1, 50), b(0.5, 90), b(1, 99), b(INF, 100)];
    expect(bucketQuantile(0.9, latencies)).toBe(0.5);
    expect(bucketQuantile(0.7, latencies)).toBeCloseTo(0.3, 12);
  });

  it('gives the highest finite bound for a rank in the +Inf bucket', () => {
    expect(bucketQuantile(0.995, [b(0.1, 50), b(0.5, 90), b(1, 99), b(INF, 100)])).toBe(1);
    expect(bucketQuantile(0.99, [b(1, 0), b(INF, 5)])).toBe(1);
  });

  it('has no value without observations, without a +Inf bucket, or with one bucket only', () => {
    expect(bucketQuantile(0.5, [b(1, 0), b(INF, 0)])).toBeNull();
    expect(bucketQuantile(0.5, [b(1, 3), b(2, 4)])).toBeNull();
    expect(bucketQuantile(0.5, [b(1, 0), b(2, 0)])).toBeNull();
    expect(bucketQuantile(0.5, [b(INF, 4)])).toBeNull();
    expect(bucketQuantile(0.5, [])).toBeNull();
  });

  it('reads dipping counts as monotonic and leaves its input alone', () => {
    // A rate of the 0.5 bucket taken a moment before the 0.1 bucket's: 40 read as 50.
    const buckets = [b(0.1, 50), b(0.5, 40), b(1, 100), b(INF, 100)];
    expect(bucketQuantile(0.5, buckets)).toBe(0.1);
    expect(bucketQuantile(0.75, buckets)).toBeCloseTo(0.75, 12);
    expect(buckets[1]!.count).toBe(40);
  });

  it('keeps Prometheus’s edges: a non-positive lowest bound, q outside [0, 1]', () => {
    expect(bucketQuantile(0.1, [b(-1, 5), b(0, 10), b(INF, 10)])).toBe(-1);
    expect(bucketQuantile(-0.1, [b(1, 5), b(INF, 5)])).toBe(Number.NEGATIVE_INFINITY);
    expect(bucketQuantile(1.1, [b(1, 5), b(INF, 5)])).toBe(INF);
    expect(bucketQuantile(0, [b(1, 0), b(2, 5), b(INF, 5)])).toBe(0);
  });
});

describe('upperBoundOf', () => {
  it('reads the le label, +Inf included', () => {
    expect(upperBoundOf({ le: '0.25' })).toBe(0.25);
    expect(upperBoundOf({ le: '+Inf' })).toBe(INF);
    // prom-client's get() gives the finite bounds as numbers.
    expect(upperBoundOf({ le: 0.005 })).toBe(0.005);
    expect(upperBoundOf({ le: '' })).toBeNaN();
    expect(upperBoundOf({ route: '/x' })).toBeNaN();
  });
});
