import { requireRole } from '../auth/guard.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { OpsOverview } from './overview.schema.js';
import type { OpsSampler } from './sampler.js';

export interface OverviewRoutesOptions {
  sampler: Pick<OpsSampler, 'overview'>;
}

/** The operator dashboard's data: the signals of /metrics as JSON, now and per minute over the last hour. */
export async function overviewRoutes(app: App, { sampler }: OverviewRoutesOptions): Promise<void> {
  app.get(
    '/v1/ops/overview',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['ops'],
        summary:
          'Golden signals: now (this process, counts since start) and the last hour per minute (with REDIS_URL every process’s, merged); queues are all processes’',
        security: [{ bearer: [] }],
        response: { 200: OpsOverview, ...errorResponses(401, 403) },
      },
    },
    async () => sampler.overview(),
  );
}
