import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import { driverAppealRoutes } from '../appeals/driver-appeal.routes.js';
import { staffAppealRoutes } from '../appeals/staff-appeal.routes.js';
import { auditRoutes } from '../audit/audit.routes.js';
import { authRoutes } from '../auth/auth.routes.js';
import { installAuthentication } from '../auth/guard.js';
import { SessionGuard } from '../auth/sessions.js';
import { sessionRoutes } from '../auth/sessions.routes.js';
import { staffSignInRoutes } from '../auth/staff-sign-in.routes.js';
import { driverRoutes } from '../driver/driver.routes.js';
import { penaltyPointsRoutes } from '../driver/penalty-points.routes.js';
import { redactionRoutes } from '../driver/redactions.routes.js';
import { evidenceRoutes } from '../evidence/evidence.routes.js';
import { resumableUploadRoutes } from '../evidence/resumable.routes.js';
import { tusRoutes } from '../evidence/tus.routes.js';
import { webhookRoutes } from '../fines/webhook.routes.js';
import { emailOutboxRoutes } from '../integrations/email/outbox.routes.js';
import { payoutWebhookSecrets } from '../integrations/payments/config.js';
import { outboxRoutes } from '../integrations/sms/outbox.routes.js';
import { CitizenStreams } from '../notifications/live.js';
import { notificationRoutes } from '../notifications/notifications.routes.js';
import { alertRoutes } from '../ops/alerts/alerts.routes.js';
import { installHttpMetrics, metricsRoutes } from '../ops/metrics.routes.js';
import { overviewRoutes } from '../ops/overview.routes.js';
import { queryRoutes } from '../ops/queries.routes.js';
import { dlqRoutes } from '../pipeline/dlq.routes.js';
import { devRoutesNeedAdmin, runningSimulators } from '../platform/config/config.js';
import { installErrorHandler } from '../platform/errors/http.js';
import { installSecurityHeaders } from '../platform/http/security-headers.js';
import { installShedding, type Load } from '../platform/http/shedding.js';
import { strictAjv, strictRouteSchema } from '../platform/http/strict-schema.js';
import { type App, ErrorBody } from '../platform/http/types.js';
import { privacyRoutes } from '../privacy/privacy.routes.js';
import { refreshReference } from '../reference/reference.cache.js';
import { REFERENCE_CHANNEL } from '../reference/reference.js';
import { referenceRoutes } from '../reference/reference.routes.js';
import { followUpRoutes } from '../reports/follow-up.routes.js';
import { reportRoutes } from '../reports/reports.routes.js';
import { ReportView } from '../reports/reports.schema.js';
import { reviewDecisionRoutes } from '../review/review-decision.routes.js';
import { reviewQueueRoutes } from '../review/review-queue.routes.js';
import { payoutWebhookRoutes } from '../rewards/payout-webhook.routes.js';
import { rewardRoutes } from '../rewards/rewards.routes.js';
import { staffAdminRoutes } from '../staff/staff-admin.routes.js';
import { unitRoutes } from '../staff/units.routes.js';
import { publicDataRoutes } from '../stats/public-data.routes.js';
import { statsRoutes } from '../stats/stats.routes.js';
import { WEB_DIST, webRoutes } from '../web/static.js';
import { installAccessTable } from './access.js';
import type { Deps } from './deps.js';
import { healthRoutes } from './health.routes.js';

export interface HttpOptions {
  /** Whether this process's pipeline workers run, for /readyz; null when it runs none (`jarima api`). */
  workersRunning: (() => boolean) | null;
  /** The overload reading the shedding acts on (tests drive it; by default the sampled event-loop delay). */
  load?: () => Load;
}

/** The HTTP API: one Fastify instance, every route's schema doubling as validation and OpenAPI (/docs). */
export async function buildApp(deps: Deps, opts: HttpOptions): Promise<App> {
  const { config } = deps;
  const trusted = config.TRUST_PROXY.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const app = Fastify({
    loggerInstance: deps.logger,
    trustProxy: trusted.length ? trusted : false,
    bodyLimit: 64 * 1024,
    requestIdHeader: false,
    // Two log lines per request are noise at intake rates; keep them for debug and trace.
    logController: new LogController({
      disableRequestLogging: config.LOG_LEVEL !== 'debug' && config.LOG_LEVEL !== 'trace',
    }),
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false },
      onCreate: strictAjv,
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;
  // First of all hooks, so it sees every route, the plugins' included (docs/api.md, "Input rules").
  app.addHook('onRoute', strictRouteSchema);

  installErrorHandler(app);
  // Shared $id schemas, at the root so every route plugin's encapsulated context resolves them.
  app.addSchema(ErrorBody);
  app.addSchema(ReportView);
  installSecurityHeaders(app);
  await installShedding(app, {
    delayMs: {
      public: config.SHED_PUBLIC_DELAY_MS,
      read: config.SHED_READS_DELAY_MS,
      write: config.SHED_WRITES_DELAY_MS,
    },
    publicUtilisation: config.SHED_PUBLIC_UTILISATION,
    sustainMs: config.SHED_SUSTAIN_MS,
    retryAfterSeconds: 5,
    ...(opts.load ? { load: opts.load } : {}),
  });
  // Counters in Redis when configured, so every API process counts against the same limit; if Redis fails the
  // limiter lets requests through rather than refuse everyone.
  await app.register(rateLimit, {
    global: false,
    ...(deps.redis ? { redis: deps.redis, nameSpace: `${config.REDIS_PREFIX}rl:`, skipOnError: true } : {}),
  });
  await app.register(multipart, {
    limits: { fileSize: config.EVIDENCE_MAX_BYTES, files: 1, fields: 4, parts: 5 },
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Jarima API',
        version: '1',
        description: 'Citizen traffic-violation reports: intake, checking, review.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (json.$id as string) ?? `def-${i}` },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  const sessionGuard = new SessionGuard(deps.pool, deps.listener);
  app.addHook('onClose', async () => sessionGuard.close());
  installAuthentication(app, deps.keys.token, sessionGuard);
  installAccessTable(app);
  installHttpMetrics(app, deps.metrics);
  await app.register(metricsRoutes, { metrics: deps.metrics, config });
  await app.register(healthRoutes, {
    db: deps.pool,
    redis: deps.redis,
    workersRunning: opts.workersRunning,
    simulators: runningSimulators(config),
    mediaTools: deps.media.tools,
  });
  await app.register(authRoutes, { db: deps.pool, keys: deps.keys, sms: deps.sms, config });
  await app.register(staffSignInRoutes, {
    db: deps.pool,
    keys: deps.keys,
    config,
    rateLimitPerMinute: config.RATE_LIMIT_AUTH_PER_MINUTE,
  });
  await app.register(sessionRoutes, {
    db: deps.pool,
    keys: deps.keys,
    config,
    guard: sessionGuard,
    rateLimitPerMinute: config.RATE_LIMIT_AUTH_PER_MINUTE,
  });
  const evidence = { db: deps.pool, blobs: deps.blobs, media: deps.media, config };
  await app.register(evidenceRoutes, evidence);
  await app.register(resumableUploadRoutes, evidence);
  await app.register(tusRoutes, { ...evidence, redis: deps.redis });
  await app.register(reportRoutes, {
    db: deps.pool,
    cache: deps.cache,
    intake: deps.intake,
    reference: deps.reference,
    config,
  });
  await app.register(followUpRoutes, { db: deps.pool, reference: deps.reference, config });
  await app.register(referenceRoutes, { db: deps.pool, cache: deps.cache, reference: deps.reference });
  await app.register(dlqRoutes, { db: deps.pool });
  await app.register(queryRoutes, {
    db: deps.pool,
    cache: deps.cache,
    sharedCache: deps.redis !== null,
    queryTimings: deps.queryTimings,
  });
  const review = { db: deps.pool, reference: deps.reference, config };
  await app.register(reviewQueueRoutes, review);
  await app.register(reviewDecisionRoutes, { ...review, blobs: deps.blobs });
  await app.register(staffAdminRoutes, { db: deps.pool, config });
  await app.register(unitRoutes, { db: deps.pool });
  await app.register(auditRoutes, { db: deps.pool });
  await app.register(webhookRoutes, {
    db: deps.pool,
    reference: deps.reference,
    webhookSecrets: deps.govWebhookSecrets,
    config,
  });
  // The process's LISTEN connection also carries live citizen streams and reference data changed elsewhere.
  deps.listener.on(REFERENCE_CHANNEL, () => {
    refreshReference(deps).catch((err: unknown) => deps.logger.warn({ err }, 'reference refresh failed'));
  });
  await app.register(notificationRoutes, {
    db: deps.pool,
    keys: deps.keys,
    streams: new CitizenStreams(deps.listener),
  });
  if (deps.alerts)
    await app.register(alertRoutes, {
      manager: deps.alerts.manager,
      db: deps.pool,
      shared: deps.alerts.shared,
    });
  await app.register(overviewRoutes, { sampler: deps.ops });
  await app.register(rewardRoutes, { db: deps.pool, keys: deps.keys });
  await app.register(privacyRoutes, {
    db: deps.pool,
    blobs: deps.blobs,
    keys: deps.keys,
    sms: deps.sms,
    config,
  });
  await app.register(redactionRoutes, { db: deps.pool });
  await app.register(penaltyPointsRoutes, { db: deps.pool, reference: deps.reference });
  await app.register(driverRoutes, {
    db: deps.pool,
    blobs: deps.blobs,
    media: deps.media,
    reference: deps.reference,
    keys: deps.keys,
    config,
  });
  await app.register(driverAppealRoutes, {
    db: deps.pool,
    blobs: deps.blobs,
    media: deps.media,
    sms: deps.sms,
    keys: deps.keys,
    config,
  });
  await app.register(staffAppealRoutes, {
    db: deps.pool,
    blobs: deps.blobs,
    reference: deps.reference,
    keys: deps.keys,
    config,
  });
  const publicStats = { db: deps.pool, cache: deps.cache, config };
  await app.register(statsRoutes, publicStats);
  await app.register(publicDataRoutes, publicStats);
  // A simulator's /v1/dev routes exist only while it runs; in production (opted in) only an admin reads them.
  const adminOnly = devRoutesNeedAdmin(config);
  if (deps.emailOutbox) await app.register(emailOutboxRoutes, { outbox: deps.emailOutbox, adminOnly });
  if (deps.smsSimulator) await app.register(outboxRoutes, { simulator: deps.smsSimulator, adminOnly });
  const payoutSecrets = payoutWebhookSecrets(config);
  if (payoutSecrets.length)
    await app.register(payoutWebhookRoutes, { db: deps.pool, secrets: payoutSecrets });
  // The web application (web/, built by `npm run build`) at `/`, after every API route.
  webRoutes(app, { dir: WEB_DIST });
  return app;
}
