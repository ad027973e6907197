import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import { requireRole } from '../auth/guard.js';
import { BUCKETS_MS } from '../platform/db/query-timing.js';
import { type App, errorResponses } from '../platform/http/types.js';

const Histogram = T.Object({
  statement: T.String(),
  calls: T.Integer(),
  totalMs: T.Number(),
  meanMs: T.Number(),
  p95Ms: T.Number({ description: 'Upper bound of the histogram bucket holding the 95th percentile' }),
  counts: T.Array(T.Integer(), { description: 'Calls per bucket (upper bounds in bucketsMs)' }),
});

/**
 * For any distribution, P(X ≥ μ + kσ) ≤ 1 / (1 + k²) (Cantelli); k = √19 makes that 5 %, so μ + 4.36σ bounds the
 * 95th percentile from the mean and deviation pg_stat_statements keeps (it keeps no percentiles).
 */
const CANTELLI_95 = Math.sqrt(19);

/**
 * Slow-query visibility for operators: this process's per-statement timing histograms, and PostgreSQL's own
 * pg_stat_statements (every process, since the server started) where the server has it loaded.
 */
export function queryRoutes(app: App, deps: Deps): void {
  app.get(
    '/v1/admin/cache',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['ops'],
        summary: 'Cache hits, misses and stale (grace) serves per namespace in this process, since start',
        security: [{ bearer: [] }],
        response: {
          200: T.Object({
            tiers: T.Array(T.String()),
            namespaces: T.Record(
              T.String(),
              T.Object({
                hits: T.Integer(),
                misses: T.Integer(),
                stale: T.Integer(),
                hitRate: T.Union([T.Number(), T.Null()]),
              }),
            ),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => ({
      tiers: deps.redis ? ['memory', 'redis', 'bus'] : ['memory'],
      namespaces: deps.cache.stats(),
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
        querystring: T.Object({ limit: T.Integer({ minimum: 1, maximum: 200, default: 20 }) }),
        response: {
          200: T.Object({
            bucketsMs: T.Array(T.Union([T.Number(), T.Null()]), {
              description: 'Bucket upper bounds; null = ∞',
            }),
            process: T.Array(Histogram),
            pgStatStatements: T.Object({
              available: T.Boolean(),
              statements: T.Array(
                T.Object({
                  statement: T.String(),
                  calls: T.Integer(),
                  totalMs: T.Number(),
                  meanMs: T.Number(),
                  maxMs: T.Number(),
                  p95BoundMs: T.Number({
                    description:
                      'PostgreSQL’s own execution time: a bound the 95th percentile cannot exceed (Cantelli: mean + 4.36 σ, at most the max)',
                  }),
                }),
              ),
            }),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit;
      let pgss: {
        available: boolean;
        statements: {
          statement: string;
          calls: number;
          totalMs: number;
          meanMs: number;
          maxMs: number;
          p95BoundMs: number;
        }[];
      };
      try {
        const { rows } = await deps.pool.query<{
          query: string;
          calls: number;
          total: number;
          mean: number;
          stddev: number;
          max: number;
        }>(
          `select regexp_replace(query, '\\s+', ' ', 'g') as query, calls::bigint as calls,
                  total_exec_time as total, mean_exec_time as mean, stddev_exec_time as stddev, max_exec_time as max
             from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
            order by total_exec_time desc limit $1`,
          [limit],
        );
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
        process: deps.queryTimings.top(limit).map((t) => ({
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
