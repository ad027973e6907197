import { hkdfSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { maskPhone } from '../auth/phone.js';
import { type BlobStore, createBlobStore } from '../evidence/blob-store.js';
import { Media } from '../evidence/media.js';
import { type MediaTools, mediaToolsFor } from '../evidence/media-tools.js';
import { BoundariesCache } from '../geo/boundaries-cache.js';
import { EmailOutbox } from '../integrations/email/outbox.js';
import type { EmailSender } from '../integrations/email/port.js';
import { SmtpEmailSender } from '../integrations/email/smtp-adapter.js';
import {
  govRegistryOptions,
  govRegistryPolicy,
  govWebhookSecrets,
} from '../integrations/gov-registry/config.js';
import { HttpGovRegistry } from '../integrations/gov-registry/http-adapter.js';
import { HttpPayoutGateway } from '../integrations/payments/http-adapter.js';
import type { PayoutGateway } from '../integrations/payments/port.js';
import { PayoutSimulator } from '../integrations/payments/simulator.js';
import { HttpSmsGateway } from '../integrations/sms/http-adapter.js';
import type { SmsGateway } from '../integrations/sms/port.js';
import { SmsSimulator } from '../integrations/sms/simulator.js';
import { type AlertRoutesOptions, alertsNow } from '../ops/alerts/alerts.routes.js';
import type { AlertsNow } from '../ops/alerts/alerts.schema.js';
import { AlertManager } from '../ops/alerts/manager.js';
import { loadAlertRules } from '../ops/alerts/rules.js';
import { createAlertSinks } from '../ops/alerts/sinks.js';
import { CapacityRecorder } from '../ops/capacity-recorder.js';
import { ClusterMetrics, ClusterSeries, EvaluatorLease } from '../ops/cluster-metrics.js';
import { OpsSampler } from '../ops/sampler.js';
import { SamplerHealth } from '../ops/sampler-health.js';
import { DemandForecaster } from '../pipeline/demand.js';
import { StageWakeups } from '../pipeline/duty.js';
import { StageArrivals, stageWaitingFor } from '../pipeline/queues.js';
import { Cache } from '../platform/cache/cache.js';
import type { Config } from '../platform/config/config.js';
import { PgListener } from '../platform/db/listener.js';
import { createPool, onChanges, type Pool, reportPoolErrors } from '../platform/db/pool.js';
import { QueryTimings } from '../platform/db/query-timing.js';
import type { Logger } from '../platform/logger.js';
import { FailureLog } from '../platform/metrics/failures.js';
import { Metrics } from '../platform/metrics/metrics.js';
import { deriveKeys, type Keys } from '../platform/security/keys.js';
import { REFERENCE_CACHE } from '../reference/reference.cache.js';
import { ReferenceData } from '../reference/reference.js';
import { GroupCommitIntake } from '../reports/intake.js';
import { dropChangedReports, listenForChanges, REPORT_CACHES } from '../reports/reports.cache.js';
import { MAP_CACHE, STATS_CACHE } from '../stats/stats.cache.js';

/** Everything the routes and workers use, built once here and passed explicitly (no module singletons). */
export interface Deps {
  config: Config;
  logger: Logger;
  pool: Pool;
  keys: Keys;
  sms: SmsGateway;
  /** The SMS simulator when it is the gateway (no real one configured); null otherwise. */
  smsSimulator: SmsSimulator | null;
  blobs: BlobStore;
  /** ffmpeg/ffprobe and the bounded decoding of evidence (src/evidence/media.ts). */
  media: Media;
  reference: ReferenceData;
  /** Region and district boundaries as an in-memory spatial index. */
  boundaries: BoundariesCache;
  intake: GroupCommitIntake;
  /** The government fines registry: its HTTP API, or the local simulator's (started by `jarima start`). */
  govRegistry: HttpGovRegistry;
  /** Secrets that sign the registry's callbacks (GOV_WEBHOOK_SECRET, or one derived for the local simulator). */
  govWebhookSecrets: string[];
  email: EmailSender;
  /** The e-mail outbox when no SMTP server is configured; null otherwise. */
  emailOutbox: EmailOutbox | null;
  /** The payment provider (PAYOUT_PROVIDER_URL), or the local payout simulator. */
  payouts: PayoutGateway;
  /** The payout simulator when it is the gateway (no provider configured); null otherwise. */
  payoutSimulator: PayoutSimulator | null;
  /** Shared state across processes (REDIS_URL); null runs each process on its own. */
  redis: Redis | null;
  /** Timing histograms of every statement this process runs (GET /v1/admin/queries). */
  queryTimings: QueryTimings;
  /** L1 memory, plus L2 Redis and its invalidation bus with REDIS_URL (src/platform/cache/cache.ts). */
  cache: Cache;
  /** This process's Prometheus registry and instruments (GET /metrics). */
  metrics: Metrics;
  /** The process's one LISTEN connection (reference changes, report changes, live citizen streams). */
  listener: PgListener;
  /** Arrivals per stage from every process's commits (for the autoscaler). */
  arrivals: StageArrivals;
  /** Wakes this process's sweeps on duty when reports enter their stage (duty.ts). */
  wakeups: StageWakeups;
  /** Reports per hour to come, from the stored history (pre-scaling, cache warming before peaks). */
  forecaster: DemandForecaster;
  /** Queue sampling and the last hour per minute for the operator dashboard (started by `jarima start`). */
  ops: OpsSampler;
  /** The alert rules over this process's metrics (ALERTS_ENABLED), started by `jarima start`/`api`. */
  alerts: {
    manager: AlertManager;
    evaluationIntervalMs: number;
    shared: AlertRoutesOptions['shared'];
  } | null;
  /** With REDIS_URL: this process's metrics shared with the cluster's alert evaluator (started by startPlatform). */
  cluster: ClusterMetrics | null;
}

export interface DepsOptions {
  databaseUrl: string;
  secret: string;
  logger: Logger;
  /** Where the registry is when GOV_REGISTRY_URL is unset: the local simulator this process started. */
  govSimulator?: { url: string; apiKey: string };
  /** ffmpeg/ffprobe, when already found (startPlatform checks them before the database starts). */
  mediaTools?: MediaTools;
}

export async function createDeps(config: Config, opts: DepsOptions): Promise<Deps> {
  const pool = createPool(opts.databaseUrl, config.DB_POOL_MAX);
  const metrics = new Metrics();
  // The statement as a label: bounded (QueryTimings keeps 300, then "(other)"), cut to stay readable.
  const queryTimings = new QueryTimings((statement, ms) =>
    metrics.queryDuration.observe({ query: statement.slice(0, 80) }, ms / 1000),
  );
  queryTimings.attach(pool);
  const log = opts.logger;
  reportPoolErrors(
    pool,
    new FailureLog({
      logger: log,
      source: 'database pool',
      count: (kind) => metrics.dbPoolErrors.inc({ kind }),
    }),
  );
  const smsSimulator = new SmsSimulator((sms) =>
    log.info({ simulator: 'sms' }, `[SMS SIMULATOR] ${maskPhone(sms.to)}: ${sms.text}`),
  );
  const [reference, boundaries] = await Promise.all([ReferenceData.load(pool), BoundariesCache.load(pool)]);
  const sms = config.SMS_GATEWAY_URL
    ? new HttpSmsGateway({
        url: config.SMS_GATEWAY_URL,
        apiKey: config.SMS_GATEWAY_API_KEY!,
        timeoutMs: config.SMS_GATEWAY_TIMEOUT_MS,
      })
    : null;
  const emailOutbox = config.SMTP_URL
    ? null
    : new EmailOutbox((m) => log.info({ simulator: 'email' }, `[E-MAIL OUTBOX] ${m.subject}`));
  const payoutSimulator = config.PAYOUT_PROVIDER_URL ? null : new PayoutSimulator(pool);
  const payouts =
    payoutSimulator ??
    new HttpPayoutGateway({
      url: config.PAYOUT_PROVIDER_URL!,
      apiKey: config.PAYOUT_PROVIDER_API_KEY!,
      timeoutMs: config.PAYOUT_PROVIDER_TIMEOUT_MS,
      onBreakerChange: (state) =>
        log.warn({ breaker: 'payments', state }, 'payment provider circuit breaker'),
    });
  // Fail fast rather than queue commands while Redis is away: callers fall back (the rate limiter lets requests
  // through), and the client reconnects on its own.
  const redis = config.REDIS_URL
    ? new Redis(config.REDIS_URL, {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        connectTimeout: 2000,
      })
    : null;
  redis?.on('error', (err) => log.warn({ err: { message: err.message } }, 'redis unavailable'));
  // Start with Redis connected when it is there (commands issued before it is ready would fail open); a Redis that
  // is away does not stop the start, the client keeps reconnecting.
  if (redis && redis.status !== 'ready') {
    await Promise.race([once(redis, 'ready'), setTimeout(2000, undefined, { ref: false })]).catch(() => {});
  }
  const registryOptions = govRegistryOptions(config) ?? {
    // No registry configured: the local simulator (or, without one, an address that refuses, so forwarding waits).
    urls: [opts.govSimulator?.url ?? 'http://127.0.0.1:9'],
    apiKey: opts.govSimulator?.apiKey ?? 'unset',
    ...govRegistryPolicy(config),
  };
  const cache = new Cache({
    redis,
    prefix: config.REDIS_PREFIX,
    enabled: config.CACHE_ENABLED,
    memoryMb: config.CACHE_MEMORY_MB,
    namespaces: [REFERENCE_CACHE, ...REPORT_CACHES, STATS_CACHE, MAP_CACHE],
  });
  // Write-through invalidation: every commit that moved reports drops their cached views, here and (bus) elsewhere;
  // every process's commits reach this one by NOTIFY too (other processes' copies, and the stages' arrivals).
  onChanges(pool, (changes) => void dropChangedReports(cache, changes));
  const listener = new PgListener(pool, log);
  const arrivals = new StageArrivals();
  const wakeups = new StageWakeups();
  onChanges(pool, (changes) => wakeups.wake(changes.entered));
  listenForChanges(listener, cache, (entered) => {
    arrivals.add(entered);
    wakeups.wake(entered);
  });
  const govRegistry = new HttpGovRegistry({
    ...registryOptions,
    onBreakerChange: (state) => log.warn({ breaker: 'gov-registry', state }, 'gov registry circuit breaker'),
  });
  instrument(metrics, { pool, cache, govRegistry, payouts });
  const email = emailOutbox ?? new SmtpEmailSender({ url: config.SMTP_URL!, from: config.MAIL_FROM });
  // With Redis every process's metrics are shared (started by startPlatform, in every role), and the alert rules
  // judge them all from one elected process.
  const cluster = redis
    ? new ClusterMetrics(redis, config.REDIS_PREFIX, metrics.registry, CLUSTER_METRICS_MS, undefined, (err) =>
        log.warn({ err }, 'could not share this process’s metrics'),
      )
    : null;
  const alerts = config.ALERTS_ENABLED
    ? await alertManager(config, { metrics, logger: log, email, pool, redis, cluster })
    : null;
  // The dashboard's sampler and capacity recording share the minute and one account of what failed.
  const health = new SamplerHealth({ metrics, logger: log });
  const ops = new OpsSampler({
    pool,
    metrics,
    cache,
    arrivals,
    breakers: () => ({
      gov_registry: BREAKER_VALUE[govRegistry.breakerState()],
      ...(payouts instanceof HttpPayoutGateway ? { payments: BREAKER_VALUE[payouts.breakerState()] } : {}),
    }),
    health,
    minuteListeners: [new CapacityRecorder({ pool, metrics, health })],
    shared: redis ? new ClusterSeries(redis, config.REDIS_PREFIX) : null,
  });
  return {
    config,
    logger: log,
    alerts,
    cluster,
    ops,
    forecaster: new DemandForecaster({ pool, logger: log }),
    pool,
    keys: deriveKeys(opts.secret),
    sms: sms ?? smsSimulator,
    smsSimulator: sms ? null : smsSimulator,
    govRegistry,
    govWebhookSecrets: govWebhookSecretsFor(config, opts.secret),
    email,
    emailOutbox,
    payouts,
    payoutSimulator,
    redis,
    queryTimings,
    metrics,
    cache,
    listener,
    arrivals,
    wakeups,
    media: new Media(opts.mediaTools ?? (await mediaToolsFor(config)), config),
    blobs: await createBlobStore(config),
    reference,
    boundaries,
    intake: new GroupCommitIntake(
      pool,
      {
        maxBatch: config.INTAKE_BATCH_MAX,
        maxInFlight: config.INTAKE_FLUSHERS,
        onBatch: () => metrics.stageBatches.inc({ stage: 'intake' }),
      },
      log,
    ),
  };
}

/** Signals read at scrape time from the parts that keep them: cache counts, pool use, breakers, stage arrivals. */
function instrument(
  metrics: Metrics,
  parts: { pool: Pool; cache: Cache; govRegistry: HttpGovRegistry; payouts: PayoutGateway },
): void {
  metrics.counterFrom(
    'jarima_cache_requests_total',
    'Cache lookups by namespace and result',
    ['namespace', 'result'],
    () =>
      Object.entries(parts.cache.stats()).flatMap(([namespace, c]) => [
        { labels: { namespace, result: 'hit' }, value: c.hits },
        { labels: { namespace, result: 'miss' }, value: c.misses },
        { labels: { namespace, result: 'stale' }, value: c.stale },
      ]),
  );
  const { pool } = parts;
  metrics.gaugeFrom(
    'jarima_db_pool_connections',
    'This process’s database connections by state',
    ['state'],
    () => [
      { labels: { state: 'in_use' }, value: pool.totalCount - pool.idleCount },
      { labels: { state: 'idle' }, value: pool.idleCount },
      { labels: { state: 'waiting' }, value: pool.waitingCount },
    ],
  );
  metrics.gaugeFrom(
    'jarima_circuit_breaker_open',
    '1 while the circuit breaker to an outside system is open (failing fast), 0.5 half-open, 0 closed',
    ['system'],
    () => [
      { labels: { system: 'gov_registry' }, value: BREAKER_VALUE[parts.govRegistry.breakerState()] },
      ...(parts.payouts instanceof HttpPayoutGateway
        ? [{ labels: { system: 'payments' }, value: BREAKER_VALUE[parts.payouts.breakerState()] }]
        : []),
    ],
  );
  onChanges(pool, (changes) => {
    for (const [status, n] of Object.entries(changes.entered)) {
      const stage = stageWaitingFor(status);
      if (stage) metrics.stageArrivals.inc({ stage }, n);
    }
  });
}

/** How often each process shares its metrics with the cluster (the rules' default evaluation interval). */
const CLUSTER_METRICS_MS = 15_000;

const BREAKER_VALUE = { closed: 0, 'half-open': 0.5, open: 1 } as const;

/** Where the package is installed: a relative ALERT_RULES_FILE is read from here, wherever the process runs. */
const INSTALL_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** The alert rules file, loaded and checked now: a broken file stops the start naming the rule and field. */
async function alertManager(
  config: Config,
  parts: {
    metrics: Metrics;
    logger: Logger;
    email: EmailSender;
    pool: Pool;
    redis: Redis | null;
    cluster: ClusterMetrics | null;
  },
): Promise<{ manager: AlertManager; evaluationIntervalMs: number; shared: AlertRoutesOptions['shared'] }> {
  const file = path.isAbsolute(config.ALERT_RULES_FILE)
    ? config.ALERT_RULES_FILE
    : path.join(INSTALL_DIR, config.ALERT_RULES_FILE);
  const rules = await loadAlertRules(file);
  const { redis } = parts;
  const ttlMs = 3 * rules.evaluationIntervalMs;
  const lease = redis && new EvaluatorLease(redis, config.REDIS_PREFIX, ttlMs);
  const sharedKey = `${config.REDIS_PREFIX}ops:alerts-now`;
  const manager: AlertManager = new AlertManager({
    registry: parts.cluster?.registry() ?? parts.metrics.registry,
    ...(lease
      ? {
          leader: () => lease.held(),
          // What GET /v1/ops/alerts answers on every API process: the evaluator's view.
          evaluated: async () => {
            await redis.set(sharedKey, JSON.stringify(alertsNow(manager)), 'PX', ttlMs).catch(() => {});
          },
        }
      : {}),
    rules: rules.rules,
    sinks: createAlertSinks(rules.sinks, { logger: parts.logger, email: parts.email }),
    logger: parts.logger,
    pool: parts.pool,
    repeatIntervalMs: rules.repeatIntervalMs,
  });
  const shared = redis
    ? {
        read: async () => {
          const raw = await redis.get(sharedKey);
          return raw ? (JSON.parse(raw) as AlertsNow) : null;
        },
      }
    : null;
  return { manager, evaluationIntervalMs: rules.evaluationIntervalMs, shared };
}

export async function closeDeps(deps: Deps): Promise<void> {
  deps.forecaster.stop();
  await deps.ops.stop();
  await deps.alerts?.manager.stop();
  await deps.cluster?.stop();
  await deps.listener.stop();
  await deps.intake.drain();
  deps.media.close();
  await deps.govRegistry.close();
  await deps.cache.disconnect();
  deps.redis?.disconnect();
  if (deps.sms instanceof HttpSmsGateway) await deps.sms.close();
  if (deps.email instanceof SmtpEmailSender) deps.email.close();
  if (deps.payouts instanceof HttpPayoutGateway) await deps.payouts.close();
  await deps.pool.end();
}

/** GOV_WEBHOOK_SECRET when set; for the local simulator, a key derived from JARIMA_SECRET that both sides know. */
export function govWebhookSecretsFor(config: Config, secret: string): string[] {
  const configured = govWebhookSecrets(config);
  if (configured.length) return configured;
  return [Buffer.from(hkdfSync('sha256', secret, 'jarima', 'gov-webhook', 32)).toString('hex')];
}

/**
 * JARIMA_SECRET when set; otherwise a random one generated on first start and kept in the data directory, so a
 * laptop install works with no configuration and keeps its tokens valid across restarts. Never committed.
 */
export async function resolveSecret(config: Config): Promise<string> {
  if (config.JARIMA_SECRET) return config.JARIMA_SECRET;
  const file = path.join(config.JARIMA_DATA_DIR, 'secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(config.JARIMA_DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}
