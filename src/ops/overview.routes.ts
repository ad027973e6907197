import { Type as T } from '@sinclair/typebox';
import { requireRole } from '../auth/guard.js';
import { type App, errorResponses } from '../platform/http/types.js';
import type { OpsSampler } from './overview.js';

const Ms = T.Union([T.Number(), T.Null()]);
const Point = T.Object({
  at: T.String({ format: 'date-time' }),
  submissions: T.Integer(),
  http: T.Object({ requests: T.Integer(), errors: T.Integer(), p50Ms: Ms, p95Ms: Ms, p99Ms: Ms }),
  stages: T.Record(
    T.String(),
    T.Object({
      depth: T.Integer(),
      oldestAgeSeconds: T.Number(),
      workers: T.Integer(),
      desiredWorkers: T.Integer(),
      batching: T.Boolean({ description: 'Runs in batches here: workers only while a batch runs' }),
      completed: T.Integer(),
    }),
  ),
  cacheHitRate: T.Record(T.String(), T.Union([T.Number(), T.Null()])),
  breakers: T.Record(T.String(), T.Number({ description: '0 closed, 0.5 half-open, 1 open' })),
  eventLoopLagP99Ms: T.Number(),
  cpuSeconds: T.Number(),
  rssBytes: T.Integer(),
});

/** The operator dashboard's data: the signals of /metrics as JSON, now and per minute over the last hour. */
export function overviewRoutes(app: App, sampler: OpsSampler): void {
  app.get(
    '/v1/ops/overview',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['ops'],
        summary:
          'Golden signals of this process: now (counts since start) and the last hour per minute; queues are all processes’',
        security: [{ bearer: [] }],
        response: { 200: T.Object({ now: Point, series: T.Array(Point) }), ...errorResponses(401, 403) },
      },
    },
    async () => sampler.overview(),
  );
}
