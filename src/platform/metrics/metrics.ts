import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

// Request and stage latencies span sub-millisecond cache hits to multi-second uploads.
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const QUERY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Everything this process measures, in one prom-client registry (one per process — tests build several apps in
 * one process, so never the global one). Names follow Prometheus conventions (`_total` counters, base units,
 * `jarima_` prefix); labels take values from small fixed sets only — route templates, stage and namespace names,
 * status classes — never ids or plates.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'jarima_http_requests_total',
    help: 'HTTP requests answered, by route template, method and status class',
    labelNames: ['route', 'method', 'status_class'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'jarima_http_request_duration_seconds',
    help: 'Time from request to response, by route template, method and status class',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly stageArrivals = this.stageCounter(
    'jarima_stage_arrivals_total',
    'Reports (or notifications, payouts) this process committed into a stage’s queue',
  );
  readonly stageCompletions = this.stageCounter(
    'jarima_stage_completions_total',
    'Items a stage’s workers in this process finished',
  );
  readonly stageBatches = this.stageCounter(
    'jarima_stage_batches_total',
    'Transactions a stage committed in this process: claims of a sweep, group commits of the intake (stage "intake")',
  );
  readonly stageFailures = this.stageCounter(
    'jarima_stage_failures_total',
    'Items a stage’s workers in this process set aside as failed, or sweeps that failed',
  );
  readonly stageService = new Histogram({
    name: 'jarima_stage_service_seconds',
    help: 'Worker time per item (a sweep’s duration divided by the items it handled)',
    labelNames: ['stage'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly stageDepth = this.stageGauge(
    'jarima_stage_queue_depth',
    'Items waiting for a stage (all processes; sampled from the database)',
  );
  readonly stageOldest = this.stageGauge(
    'jarima_stage_oldest_job_age_seconds',
    'How long the oldest item waiting for a stage has waited (all processes; sampled)',
  );
  readonly stageWorkers = this.stageGauge(
    'jarima_stage_workers',
    'Concurrent workers of a stage running in this process',
  );
  /** Workers per stage now, and since when (for jarima_stage_worker_seconds_total). */
  private readonly workersSince = new Map<string, { n: number; since: number }>();
  readonly stageWorkerSeconds = new Counter({
    name: 'jarima_stage_worker_seconds_total',
    help: 'Worker time a stage held in this process: a pool’s size over the time it ran, a batch’s duration',
    labelNames: ['stage'] as const,
    registers: [this.registry],
    collect: () => {
      for (const stage of this.workersSince.keys()) this.accrueWorkerTime(stage);
    },
  });
  readonly stageDesiredWorkers = this.stageGauge(
    'jarima_stage_workers_desired',
    'Workers the autoscaler wants for a stage in this process',
  );
  readonly stageBatching = this.stageGauge(
    'jarima_stage_batching',
    '1 while a stage runs in batches in this process: no standing worker, workers only while a batch runs',
  );

  readonly reviewDeadlineBreaches = new Gauge({
    name: 'jarima_review_deadline_breaches',
    help:
      'Reports past a deadline now (all processes; sampled from the database): kind "review" — open for review past ' +
      'review_due_at (REVIEW_SLA_HOURS after entering the queue); kind "legal" — not yet at the registry past ' +
      'sla_due_at (FORWARD_DEADLINE_HOURS after the incident). The ReviewDeadlineBreached alert',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly deadLetterReports = new Gauge({
    name: 'jarima_dead_letter_reports',
    help:
      'Reports an automated stage gave up on (status failed), waiting for an operator (jarima dlq; sampled). ' +
      'The DeadLetterReports alert',
    registers: [this.registry],
  });

  readonly queryDuration = new Histogram({
    name: 'jarima_db_query_duration_seconds',
    help: 'Statement time by statement (text cut to 80 characters; at most 300 distinct, then "(other)")',
    labelNames: ['query'] as const,
    buckets: QUERY_BUCKETS,
    registers: [this.registry],
  });

  readonly samplerErrors = new Counter({
    name: 'jarima_sampler_errors_total',
    help:
      'Background readings of this process that failed, by part: queues (queue depth and age from the database), ' +
      'points (the operator dashboard’s minute), capacity (capacity_measurements), installation_cpu (PostgreSQL’s ' +
      'CPU from pg_stat_activity and /proc). Each is logged at most once a minute per part, with the count since',
    labelNames: ['part'] as const,
    registers: [this.registry],
  });
  readonly samplerLastSuccess = new Gauge({
    name: 'jarima_sampler_last_success_timestamp_seconds',
    help:
      'When each background reading (see jarima_sampler_errors_total) last succeeded, Unix seconds, or when it was ' +
      'first tried while it has never succeeded: a gauge it feeds (jarima_stage_queue_depth for queues) is stale ' +
      'once this is 3 of its intervals old (the SamplerStale alert)',
    labelNames: ['part'] as const,
    registers: [this.registry],
  });
  readonly samplerInterval = new Gauge({
    name: 'jarima_sampler_interval_seconds',
    help: 'How often each background reading (see jarima_sampler_errors_total) is taken, seconds',
    labelNames: ['part'] as const,
    registers: [this.registry],
  });
  readonly evidenceReclaimedBytes = new Counter({
    name: 'jarima_evidence_reclaimed_bytes_total',
    help: 'Bytes of evidence (and its poster frames) deleted because no report referred to it within EVIDENCE_UNFILED_HOURS',
    registers: [this.registry],
  });
  readonly evidenceReclaimedFiles = new Counter({
    name: 'jarima_evidence_reclaimed_files_total',
    help: 'Evidence files deleted because no report referred to them within EVIDENCE_UNFILED_HOURS',
    registers: [this.registry],
  });
  readonly retentionPurged = new Counter({
    name: 'jarima_retention_purged_total',
    help: 'What the retention run purged (docs/privacy.md), by kind: rows, report media, evidence files and bytes',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly dbPoolErrors = new Counter({
    name: 'jarima_db_pool_errors_total',
    help:
      'Database errors of this process’s pool that no query returned, by kind: connection (a connection failed; ' +
      'idle, or under a query whose caller sees it too), rollback (a failed transaction could not be rolled back; ' +
      'the connection is discarded), change_listener (a listener to committed changes threw; the commit stands). ' +
      'Each is logged at most once a minute per kind, with the count since',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private stageCounter(name: string, help: string) {
    return new Counter({ name, help, labelNames: ['stage'] as const, registers: [this.registry] });
  }

  /**
   * A stage now has `n` workers in this process: sets jarima_stage_workers and accrues the time the previous number
   * was held into jarima_stage_worker_seconds_total (exact, where sampling the gauge misses batches of a few ms).
   */
  setStageWorkers(stage: string, n: number): void {
    this.accrueWorkerTime(stage);
    this.workersSince.set(stage, { n, since: performance.now() });
    this.stageWorkers.set({ stage }, n);
  }

  private accrueWorkerTime(stage: string): void {
    const held = this.workersSince.get(stage);
    if (!held) return;
    const now = performance.now();
    this.stageWorkerSeconds.inc({ stage }, (held.n * (now - held.since)) / 1000);
    held.since = now;
  }

  private stageGauge(name: string, help: string) {
    return new Gauge({ name, help, labelNames: ['stage'] as const, registers: [this.registry] });
  }

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    // Event-loop lag, CPU, memory, GC and handles, under the standard names (process_*, nodejs_*).
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge whose values are read when scraped, from state something else keeps. */
  gaugeFrom<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => { labels: Record<L, string>; value: number }[],
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { labels, value } of read()) this.set(labels as never, value);
      },
    });
  }

  /** A counter whose totals are read when scraped, from counts something else keeps. */
  counterFrom<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => { labels: Record<L, string>; value: number }[],
  ): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { labels, value } of read()) this.inc(labels as never, value);
      },
    });
  }
}

/** `2xx`, `4xx`, … */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}
