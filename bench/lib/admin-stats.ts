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
export async function statementStats(http: Pool, adminToken: string): Promise<StatementStats[]> {
  return (await adminGet<{ process: StatementStats[] }>(http, adminToken, '/v1/admin/queries?limit=200'))
    .process;
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
 * The overall p95 of statement time as far as per-statement bounds tell it: `estimate` is the calls-weighted 95th
 * percentile of the statements' p95 bounds; `bound` the largest p95 bound of any statement with at least 0.1 % of
 * the calls — at least 95 % of those statements' calls took no longer, so the overall p95 is at most that (up to the
 * rare statements left out).
 */
export function overallP95(stmts: StatementStats[]): { estimate: number; bound: number; calls: number } {
  const calls = stmts.reduce((a, s) => a + s.calls, 0);
  const byP95 = [...stmts].sort((a, b) => a.p95Ms - b.p95Ms);
  let seen = 0;
  let estimate = 0;
  for (const s of byP95) {
    seen += s.calls;
    estimate = s.p95Ms;
    if (seen >= 0.95 * calls) break;
  }
  const bound = Math.max(0, ...stmts.filter((s) => s.calls >= calls / 1000).map((s) => s.p95Ms));
  return { estimate, bound, calls };
}

/** The most called statements, with their calls and mean between two readings and their p95 bound since start. */
export function topStatements(before: StatementStats[], after: StatementStats[], n: number): string {
  const prior = new Map(before.map((s) => [s.statement, s]));
  const rows = after
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
