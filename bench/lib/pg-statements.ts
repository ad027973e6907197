import type { Pool } from '../../src/platform/db/pool.js';

export interface ExecTotals {
  calls: number;
  totalMs: number;
}

/**
 * Statements executed and their execution time inside PostgreSQL (pg_stat_statements, every client), or null when
 * the server does not load it. Diffed around a phase it gives PostgreSQL's own mean per statement — what the
 * server's histograms measure minus the wait for a connection and for the server's event loop.
 */
export async function execTotals(pool: Pool): Promise<ExecTotals | null> {
  try {
    const { rows } = await pool.query<{ calls: string; total: number }>(
      `select coalesce(sum(calls), 0)::bigint as calls, coalesce(sum(total_exec_time), 0)::float8 as total
         from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())`,
    );
    return { calls: Number(rows[0]!.calls), totalMs: rows[0]!.total };
  } catch {
    return null;
  }
}
