import { requireRole } from '../auth/guard.js';
import type { Cache } from '../platform/cache/cache.js';
import type { Queryable } from '../platform/db/pool.js';
import { BUCKETS_MS, type QueryTimings } from '../platform/db/query-timing.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { topStatements } from './queries.repository.js';
import { CacheStats, type PgStatement, QueryStats, QueryStatsQuery } from './queries.schema.js';

/**
 * For any distribution, P(X ≥ μ + kσ) ≤ 1 / (1 + k²) (Cantelli); k = √19 makes that 5 %, so μ + 4.36σ bounds the
 * 95th percentile from the mean and deviation pg_stat_statements keeps (it keeps no percentiles).
 */
const CANTELLI_95 = Math.sqrt(19);

export interface QueryRoutesOptions {
  db: Queryable;
  cache: Pick<Cache, 'stats'>;
  /** Whether the cache has its Redis tier and invalidation bus (REDIS_URL). */
  sharedCache: boolean;
  queryTimings: Pick<QueryTimings, 'top'>;
}

/**
 * Slow-query visibility for operators: this process's per-statement timing histograms, and PostgreSQL's own
 * pg_stat_statements (every process, since the server started) where the server has it loaded.
 */
export async function queryRoutes(app: App, opts: QueryRoutesOptions): Promise<void> {
  app.get(
    '/v1/admin/cache',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['ops'],
        summary: 'Cache hits, misses and stale (grace) serves per namespace in this process, since start',
        security: [{ bearer: [] }],
        response: { 200: CacheStats, ...errorResponses(401, 403) },
      },
    },
    async (): Promise<CacheStats> => ({
      tiers: opts.sharedCache ? ['memory', 'redis', 'bus'] : ['memory'],
      namespaces: opts.cache.stats(),
    }),
  );

  app.get(
    '/v1/admin/queries',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['ops'],
        summary: 'Statements by total time: this process, and pg_stat_statements where available',
        security: [{ bearer: [] }],
        querystring: QueryStatsQuery,
        response: { 200: QueryStats, ...errorResponses(401, 403) },
      },
    },
    async (request): Promise<QueryStats> => {
      const limit = request.query.limit;
      let pgss: { available: boolean; statements: PgStatement[] };
      try {
        const rows = await topStatements(opts.db, limit);
        pgss = {
          available: true,
          statements: rows.map((r) => ({
            statement: r.query.slice(0, 500),
            calls: r.calls,
            totalMs: r.total,
            meanMs: r.mean,
            maxMs: r.max,
            p95BoundMs: Math.min(r.max, r.mean + CANTELLI_95 * r.stddev),
          })),
        };
      } catch {
        pgss = { available: false, statements: [] };
      }
      return {
        bucketsMs: BUCKETS_MS.map((b) => (Number.isFinite(b) ? b : null)),
        process: opts.queryTimings.top(limit).map((t) => ({
          statement: t.statement,
          calls: t.calls,
          totalMs: t.totalMs,
          meanMs: t.meanMs,
          p95Ms: t.p95Ms,
          counts: t.counts,
        })),
        pgStatStatements: pgss,
      };
    },
  );
}
