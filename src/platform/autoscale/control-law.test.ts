import { describe, expect, it } from 'vitest';
import { fitToCap, Hysteresis, workersNeeded } from './control-law.js';

const policy = { min: 1, max: 16, targetAgeSeconds: 10, utilisation: 0.5 };
const quiet = { arrivalRate: 0, serviceSeconds: 0.1, depth: 0, oldestAgeSeconds: 0, processes: 1 };

describe('workersNeeded', () => {
  it('keeps λ·S/ρ workers for the steady flow', () => {
    // 20 items/s × 0.1 s = 2 busy workers; at 50 % utilisation, 4.
    expect(workersNeeded({ ...quiet, arrivalRate: 20 }, policy)).toMatchObject({
      workers: 4,
      flow: 4,
      backlog: 0,
    });
    // 21 items/s → 4.2 → 5 (never fewer than the need).
    expect(workersNeeded({ ...quiet, arrivalRate: 21 }, policy).workers).toBe(5);
  });

  it('adds what drains a backlog within the target age, twice as fast once it is overdue', () => {
    // 100 waiting × 0.1 s over 10 s = 1 more worker.
    expect(
      workersNeeded({ ...quiet, arrivalRate: 20, depth: 100, oldestAgeSeconds: 5 }, policy),
    ).toMatchObject({
      workers: 5,
      backlog: 1,
    });
    expect(
      workersNeeded({ ...quiet, arrivalRate: 20, depth: 100, oldestAgeSeconds: 30 }, policy).backlog,
    ).toBe(2);
  });

  it('shares the need among the processes running the stage', () => {
    expect(workersNeeded({ ...quiet, arrivalRate: 40, processes: 2 }, policy).workers).toBe(4);
    expect(workersNeeded({ ...quiet, arrivalRate: 40, processes: 3 }, policy).workers).toBe(3);
  });

  it('pre-scales to a forecast above the measured rate, and ignores one below it', () => {
    expect(workersNeeded({ ...quiet, arrivalRate: 10, forecastRate: 30 }, policy)).toMatchObject({
      workers: 6,
      rate: 30,
    });
    expect(workersNeeded({ ...quiet, arrivalRate: 10, forecastRate: 1 }, policy).rate).toBe(10);
  });

  it('stays within min and max', () => {
    expect(workersNeeded(quiet, policy).workers).toBe(1);
    expect(workersNeeded({ ...quiet, arrivalRate: 10_000 }, policy).workers).toBe(16);
    expect(workersNeeded(quiet, { ...policy, min: 0 }).workers).toBe(0);
  });

  it('serves a need below batchBelow in batches (no standing worker), unless the queue is overdue', () => {
    const batching = { ...policy, batchBelow: 0.5 };
    // 2 items/s × 0.1 s / 0.5 = 0.4 of a worker: batches.
    expect(workersNeeded({ ...quiet, arrivalRate: 2 }, batching)).toMatchObject({ workers: 0, flow: 0.4 });
    // 3 items/s → 0.6: a worker.
    expect(workersNeeded({ ...quiet, arrivalRate: 3 }, batching).workers).toBe(1);
    // A backlog counts: 0.4 + 20 × 0.1 / 10 = 0.6.
    expect(
      workersNeeded({ ...quiet, arrivalRate: 2, depth: 20, oldestAgeSeconds: 1 }, batching).workers,
    ).toBe(1);
    // Batches that fall behind their target age give way to a worker, however small the flow.
    expect(
      workersNeeded({ ...quiet, arrivalRate: 0.1, depth: 1, oldestAgeSeconds: 11 }, batching).workers,
    ).toBe(1);
    // Off without batchBelow.
    expect(workersNeeded({ ...quiet, arrivalRate: 2 }, policy).workers).toBe(1);
  });
});

describe('fitToCap', () => {
  it('leaves sizes under the cap alone', () => {
    expect(fitToCap({ a: 2, b: 3 }, { a: 1, b: 1 }, 10)).toEqual({ a: 2, b: 3 });
  });

  it('keeps minimums and shares the rest in proportion to what each wanted above its minimum', () => {
    // Wanted above minimum: a 9, b 3 (total 12); room above minimums 6 → a 4.5, b 1.5 → a gets the extra one.
    const fitted = fitToCap({ a: 10, b: 4 }, { a: 1, b: 1 }, 8);
    expect(fitted.a! + fitted.b!).toBe(8);
    expect(fitted).toEqual({ a: 6, b: 2 });
    expect(fitToCap({ a: 10, b: 10 }, { a: 1, b: 1 }, 2)).toEqual({ a: 1, b: 1 });
  });
});

describe('Hysteresis', () => {
  it('grows at once and shrinks only after the lower need has lasted', () => {
    const h = new Hysteresis(3);
    expect(h.next('s', 1, 4)).toBe(4);
    expect(h.next('s', 4, 2)).toBe(4);
    expect(h.next('s', 4, 2)).toBe(4);
    expect(h.next('s', 4, 2)).toBe(2);
    // A burst in between restarts the count.
    expect(h.next('s', 2, 1)).toBe(2);
    expect(h.next('s', 2, 3)).toBe(3);
    expect(h.next('s', 3, 1)).toBe(3);
  });
});
