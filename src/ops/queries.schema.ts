import { type Static, Type as T } from '@sinclair/typebox';

export const CacheStats = T.Object({
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
});
export type CacheStats = Static<typeof CacheStats>;

export const QueryStatsQuery = T.Object({ limit: T.Integer({ minimum: 1, maximum: 200, default: 20 }) });

export const StatementHistogram = T.Object({
  statement: T.String(),
  calls: T.Integer(),
  totalMs: T.Number(),
  meanMs: T.Number(),
  p95Ms: T.Number({ description: 'Upper bound of the histogram bucket holding the 95th percentile' }),
  counts: T.Array(T.Integer(), { description: 'Calls per bucket (upper bounds in bucketsMs)' }),
});

export const PgStatement = T.Object({
  statement: T.String(),
  calls: T.Integer(),
  totalMs: T.Number(),
  meanMs: T.Number(),
  maxMs: T.Number(),
  p95BoundMs: T.Number({
    description:
      'PostgreSQL’s own execution time: a bound the 95th percentile cannot exceed (Cantelli: mean + 4.36 σ, at most the max)',
  }),
});
export type PgStatement = Static<typeof PgStatement>;

export const QueryStats = T.Object({
  bucketsMs: T.Array(T.Union([T.Number(), T.Null()]), {
    description: 'Bucket upper bounds; null = ∞',
  }),
  process: T.Array(StatementHistogram),
  pgStatStatements: T.Object({ available: T.Boolean(), statements: T.Array(PgStatement) }),
});
export type QueryStats = Static<typeof QueryStats>;
