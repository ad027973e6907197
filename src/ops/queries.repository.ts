import type { Queryable } from '../platform/db/pool.js';

/** A statement as pg_stat_statements counts it: execution times in ms, since the server started. */
export interface StatementStats {
  query: string;
  calls: number;
  total: number;
  mean: number;
  stddev: number;
  max: number;
}

/**
 * This database's statements by total execution time, whitespace collapsed; throws where the server has no
 * pg_stat_statements loaded.
 */
export async function topStatements(db: Queryable, limit: number): Promise<StatementStats[]> {
  const { rows } = await db.query<StatementStats>(
    `select regexp_replace(query, '\\s+', ' ', 'g') as query, calls::bigint as calls,
            total_exec_time as total, mean_exec_time as mean, stddev_exec_time as stddev, max_exec_time as max
       from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
      order by total_exec_time desc limit $1`,
    [limit],
  );
  return rows;
}
