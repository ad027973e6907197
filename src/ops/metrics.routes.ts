import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../platform/config/config.js';
import { AppError } from '../platform/errors/catalog.js';
import type { App } from '../platform/http/types.js';
import { type Metrics, statusClass } from '../platform/metrics/metrics.js';

/**
 * The HTTP instruments: one counter and one histogram observation per response, labelled by the route's template
 * (so `/v1/reports/:id`, never an id), method and status class. On the root instance, before the route plugins:
 * a hook added inside a plugin would see only that plugin's routes.
 */
export function installHttpMetrics(app: App, metrics: Pick<Metrics, 'httpRequests' | 'httpDuration'>): void {
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status_class: statusClass(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
}

export interface MetricsRoutesOptions {
  metrics: Pick<Metrics, 'registry'>;
  config: Pick<Config, 'METRICS_TOKEN'>;
}

/** `GET /metrics` in the Prometheus text format, behind `METRICS_TOKEN` (a bearer token) when set. */
export async function metricsRoutes(app: App, opts: MetricsRoutesOptions): Promise<void> {
  const { registry } = opts.metrics;
  const token = opts.config.METRICS_TOKEN ? Buffer.from(`Bearer ${opts.config.METRICS_TOKEN}`) : null;
  app.get('/metrics', { config: { ownBearer: true }, schema: { hide: true } }, async (request, reply) => {
    if (token) {
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== token.length || !timingSafeEqual(given, token))
        throw new AppError('UNAUTHENTICATED');
    }
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
