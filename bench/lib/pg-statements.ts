import type { Pool } from '../../src/platform/db/pool.js';

/** Per statement (pg_stat_statements queryid): calls, Σ time and Σ time² in ms — enough to diff over a phase. */
export type ExecTotals = Map<string, { calls: number; totalMs: number; sumSquares: number }>;

/**
 * Statements executed and their execution time inside PostgreSQL (pg_stat_statements, every client), or null when
 * the server does not load it. Diffed around a phase it gives PostgreSQL's own time per statement — what the
 * server's histograms measure minus the wait for a connection and for the server's event loop.
 */
export async function execTotals(pool: Pool): Promise<ExecTotals | null> {
  try {
    const { rows } = await pool.query<{ id: string; calls: string; total: number; squares: number }>(
      `select queryid::text as id, calls::bigint as calls, total_exec_time as total,
              calls * (stddev_exec_time ^ 2 + mean_exec_time ^ 2) as squares
         from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())`,
    );
    return new Map(
      rows.map((r) => [r.id, { calls: Number(r.calls), totalMs: r.total, sumSquares: r.squares }]),
    );
  } catch {
    return null;
  }
}

/**
 * PostgreSQL's own execution time over a phase, every statement together: the mean, and a bound the 95th percentile
 * cannot exceed whatever each statement's distribution. pg_stat_statements keeps no percentiles, only each
 * statement's count, mean and deviation; Cantelli's inequality says at most n/(1 + ((x − μ)/σ)²) of a statement's n
 * calls took x or longer, so the smallest x at which those bounds add up to 5 % of all calls bounds the p95.
 */
export function execOverPhase(
  before: ExecTotals,
  after: ExecTotals,
): { meanMs: number; p95BoundMs: number } | null {
  const phase: { n: number; mean: number; sd: number }[] = [];
  let calls = 0;
  let total = 0;
  for (const [id, a] of after) {
    const b = before.get(id) ?? { calls: 0, totalMs: 0, sumSquares: 0 };
    const n = a.calls - b.calls;
    if (n <= 0) continue;
    const mean = (a.totalMs - b.totalMs) / n;
    const variance = Math.max(0, (a.sumSquares - b.sumSquares) / n - mean * mean);
    phase.push({ n, mean, sd: Math.sqrt(variance) });
    calls += n;
    total += a.totalMs - b.totalMs;
  }
  if (calls === 0) return null;
  const above = (x: number) =>
    phase.reduce((sum, s) => {
      if (x <= s.mean) return sum + s.n;
      const k = (x - s.mean) / Math.max(s.sd, 1e-9);
      return sum + s.n / (1 + k * k);
    }, 0);
  let lo = 0;
  let hi = Math.max(...phase.map((s) => s.mean + 10 * s.sd), 1);
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (above(mid) <= 0.05 * calls) hi = mid;
    else lo = mid;
  }
  return { meanMs: total / calls, p95BoundMs: hi };
}
