import { timingSafeEqual } from 'node:crypto';
import type { Deps } from '../app/deps.js';
import { AppError } from '../platform/errors/catalog.js';
import type { App } from '../platform/http/types.js';
import { statusClass } from '../platform/metrics/metrics.js';

/**
 * `GET /metrics` in the Prometheus text format, behind `METRICS_TOKEN` (a bearer token) when set; and the HTTP
 * instruments: one counter and one histogram observation per response, labelled by the route's template (so
 * `/v1/reports/:id`, never an id), method and status class.
 */
export function metricsRoutes(app: App, deps: Pick<Deps, 'metrics' | 'config'>): void {
  const { metrics } = deps;
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status_class: statusClass(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  const token = deps.config.METRICS_TOKEN ? Buffer.from(`Bearer ${deps.config.METRICS_TOKEN}`) : null;
  app.get('/metrics', { config: { ownBearer: true }, schema: { hide: true } }, async (request, reply) => {
    if (token) {
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== token.length || !timingSafeEqual(given, token))
        throw new AppError('UNAUTHENTICATED');
    }
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
