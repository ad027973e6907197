import type { Pool } from 'undici';
import { send, table } from './open-loop.js';

export type CacheCounts = Record<string, { hits: number; misses: number; stale: number }>;

export interface StatementStats {
  statement: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  /** Upper bound of the histogram bucket holding the statement's 95th percentile. */
  p95Ms: number;
  /** Calls per bucket since the server started (bucket bounds in QueryStats.bucketsMs). */
  counts: number[];
}

export interface QueryStats {
  bucketsMs: (number | null)[];
  process: StatementStats[];
}

async function adminGet<T>(http: Pool, token: string, path: string): Promise<T> {
  const res = await send(http, { method: 'GET', path, headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text.slice(0, 200)}`);
  return JSON.parse(res.text) as T;
}

/** Hits, misses and stale serves per cache namespace in the server process since it started. */
export async function cacheCounts(http: Pool, adminToken: string): Promise<CacheCounts> {
  return (await adminGet<{ namespaces: CacheCounts }>(http, adminToken, '/v1/admin/cache')).namespaces;
}

/** The server process's statement timings since it started (the 200 costliest by total time). */
export async function statementStats(http: Pool, adminToken: string): Promise<QueryStats> {
  return adminGet<QueryStats>(http, adminToken, '/v1/admin/queries?limit=200');
}

/** Per namespace, what happened between two readings; hit rate counts stale (grace) serves as hits. */
export function cacheTable(before: CacheCounts, after: CacheCounts): string {
  const rows = Object.entries(after).map(([ns, a]) => {
    const b = before[ns] ?? { hits: 0, misses: 0, stale: 0 };
    const [hits, misses, stale] = [a.hits - b.hits, a.misses - b.misses, a.stale - b.stale];
    const total = hits + misses + stale;
    return [ns, hits, stale, misses, total ? `${((100 * (hits + stale)) / total).toFixed(2)} %` : '–'];
  });
  return rows.length
    ? table(['namespace', 'hits', 'stale', 'misses', 'hit rate'], rows)
    : '(the server reports no cache namespaces)';
}

/** A namespace's hit rate between two readings (null when it saw no lookups). */
export function hitRate(before: CacheCounts, after: CacheCounts, ns: string): number | null {
  const a = after[ns];
  if (!a) return null;
  const b = before[ns] ?? { hits: 0, misses: 0, stale: 0 };
  const total = a.hits + a.misses + a.stale - b.hits - b.misses - b.stale;
  return total ? (a.hits + a.stale - b.hits - b.stale) / total : null;
}

/**
 * The overall 95th percentile of statement time between two readings, from the statements' histograms merged: the
 * upper bound of the bucket that holds it (`bound`), and a value interpolated inside that bucket (`estimate`).
 * Measured by the server around each query, so it includes waiting for a connection and for the event loop.
 */
export function overallP95(
  before: QueryStats,
  after: QueryStats,
): { estimate: number; bound: number; calls: number } {
  const prior = new Map(before.process.map((s) => [s.statement, s.counts]));
  const merged = after.bucketsMs.map(() => 0);
  for (const s of after.process) {
    const b = prior.get(s.statement);
    s.counts.forEach((c, i) => {
      merged[i]! += c - (b?.[i] ?? 0);
    });
  }
  const calls = merged.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < merged.length; i++) {
    const rank = 0.95 * calls;
    if (seen + merged[i]! >= rank && calls > 0) {
      const lower = i === 0 ? 0 : (after.bucketsMs[i - 1] ?? 0);
      const upper = after.bucketsMs[i] ?? lower;
      const estimate = lower + ((upper - lower) * (rank - seen)) / Math.max(1, merged[i]!);
      return { estimate, bound: after.bucketsMs[i] ?? Number.POSITIVE_INFINITY, calls };
    }
    seen += merged[i]!;
  }
  return { estimate: 0, bound: 0, calls };
}

/** The most called statements, with their calls and mean between two readings and their p95 bound since start. */
export function topStatements(before: QueryStats, after: QueryStats, n: number): string {
  const prior = new Map(before.process.map((s) => [s.statement, s]));
  const rows = after.process
    .map((s) => {
      const b = prior.get(s.statement);
      const calls = s.calls - (b?.calls ?? 0);
      return { s, calls, mean: calls ? (s.totalMs - (b?.totalMs ?? 0)) / calls : 0 };
    })
    .sort((a, b) => b.calls - a.calls)
    .slice(0, n);
  return table(
    ['calls', 'mean ms', 'p95 ms ≤ (since start)', 'statement'],
    rows.map((r) => [r.calls, r.mean.toFixed(2), r.s.p95Ms, r.s.statement.slice(0, 100)]),
  );
}
