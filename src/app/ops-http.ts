import Fastify from 'fastify';
import { metricsRoutes } from '../ops/metrics.routes.js';
import { runningSimulators } from '../platform/config/config.js';
import { installErrorHandler } from '../platform/errors/http.js';
import type { App } from '../platform/http/types.js';
import { installAccessTable } from './access.js';
import type { Deps } from './deps.js';
import { healthRoutes } from './health.routes.js';

/**
 * What a `jarima worker` serves when METRICS_PORT is set: `/healthz`, `/readyz` and `/metrics` only, so Prometheus
 * scrapes every process and an orchestrator probes workers as it probes API processes. Nothing else listens.
 */
export async function buildOpsApp(deps: Deps, workersRunning: () => boolean): Promise<App> {
  const app = Fastify({ loggerInstance: deps.logger, requestIdHeader: false }) as unknown as App;
  installErrorHandler(app);
  installAccessTable(app);
  await app.register(metricsRoutes, { metrics: deps.metrics, config: deps.config });
  await app.register(healthRoutes, {
    db: deps.pool,
    redis: deps.redis,
    workersRunning,
    simulators: runningSimulators(deps.config),
    mediaTools: deps.media.tools,
  });
  return app;
}
