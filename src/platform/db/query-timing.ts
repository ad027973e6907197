import type pg from 'pg';

/** Upper bounds of the histogram buckets, in milliseconds (the last one is everything slower). */
export const BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, Number.POSITIVE_INFINITY];
/** Distinct statements tracked; past this, new ones are counted together as "(other)" so memory stays bounded. */
const MAX_STATEMENTS = 300;

export interface StatementTiming {
  statement: string;
  calls: number;
  totalMs: number;
  counts: number[];
}

/**
 * A timing histogram per statement (its text with whitespace collapsed, cut at 160 characters), over every query of
 * the pools it is attached to — ours and graphile-worker's alike. Cost per query: two clock reads and a map lookup.
 */
export class QueryTimings {
  private readonly byText = new Map<string, StatementTiming>();
  private readonly names = new Map<string, string>();

  /** `observe(statement, ms)` also hears every timing (the Prometheus histogram of src/platform/metrics). */
  constructor(private readonly observe?: (statement: string, ms: number) => void) {}

  /** Wraps every client the pool creates, so pool.query and transactions are both measured. */
  attach(pool: pg.Pool): void {
    pool.on('connect', (client) => {
      const original = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
        const started = performance.now();
        const done = () => text && this.record(text, performance.now() - started);
        // pool.query calls client.query with a callback; transactions call it for a promise.
        const last = args.length - 1;
        if (typeof args[last] === 'function') {
          const callback = args[last] as (...a: unknown[]) => unknown;
          args[last] = (...a: unknown[]) => {
            done();
            return callback(...a);
          };
          return original(...args);
        }
        const result = original(...args);
        if (!(result instanceof Promise)) return result;
        return result.then(
          (r) => {
            done();
            return r;
          },
          (err: unknown) => {
            done();
            throw err;
          },
        );
      };
    });
  }

  record(text: string, ms: number): void {
    let name = this.names.get(text);
    if (name === undefined) {
      name = text.replace(/\s+/g, ' ').trim().slice(0, 160);
      if (this.names.size < 10 * MAX_STATEMENTS) this.names.set(text, name);
    }
    let t = this.byText.get(name);
    if (!t) {
      if (this.byText.size >= MAX_STATEMENTS) name = '(other)';
      t = this.byText.get(name) ?? { statement: name, calls: 0, totalMs: 0, counts: BUCKETS_MS.map(() => 0) };
      this.byText.set(name, t);
    }
    t.calls++;
    t.totalMs += ms;
    this.observe?.(name, ms);
    t.counts[BUCKETS_MS.findIndex((b) => ms <= b)]!++;
  }

  /** The statements by total time, with mean and an upper bound of p95 read off the buckets. */
  top(limit: number): (StatementTiming & { meanMs: number; p95Ms: number })[] {
    return [...this.byText.values()]
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, limit)
      .map((t) => ({ ...t, meanMs: t.totalMs / t.calls, p95Ms: quantileBound(t.counts, 0.95) }));
  }
}

/** The upper bound of the bucket holding quantile q (∞ reported as the largest finite bound). */
export function quantileBound(counts: number[], q: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= q * total && total > 0) return Math.min(BUCKETS_MS[i]!, BUCKETS_MS[BUCKETS_MS.length - 2]!);
  }
  return 0;
}
