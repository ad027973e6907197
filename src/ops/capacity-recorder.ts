import type { Queryable } from '../platform/db/pool.js';
import type { Metrics } from '../platform/metrics/metrics.js';
import { type InstallationCpu, installationCpu, machineCpuSeconds, processCpuSeconds } from './cpu.js';
import type { MinuteListener } from './sampler.js';
import type { SamplerHealth } from './sampler-health.js';

export interface CapacityRecorderOptions {
  pool: Queryable;
  metrics: Pick<Metrics, 'stageCompletions' | 'stageBatches' | 'stageService'>;
  health: SamplerHealth;
}

/** What the counters and /proc said at the end of one interval. */
interface Reading {
  at: number;
  /** Reports that reached review: analyze's completions in this process. */
  reports: number;
  /** Transactions the intake and the stages committed (jarima_stage_batches_total, all stages). */
  batches: number;
  /** Each stage's worker time and items (jarima_stage_service_seconds). */
  service: Map<string, { sum: number; count: number }>;
  /** The whole machine's CPU since boot: what else runs here (other services, a load generator). */
  machineCpu: number;
  /** The installation's own, where this process carries the whole path. */
  install: InstallationCpu | null;
}

/**
 * Keeps what this installation measures about itself across restarts (capacity_measurements), for `jarima
 * capacity` (src/ops/capacity.ts): each stage's worker time per item, and — in a process running the whole path —
 * the installation's CPU per report. Closes an interval with every minute of the operator sampler.
 */
export class CapacityRecorder implements MinuteListener {
  private last: Reading | null = null;

  constructor(private readonly opts: CapacityRecorderOptions) {}

  async minute(now: number, run: { wholePath: boolean; everyMs: number }): Promise<void> {
    await this.opts.health.attempt('capacity', run.everyMs, async () => {
      const reading = await this.read(now, run);
      const prev = this.last;
      this.last = reading;
      if (prev) await this.record(reading, prev);
    });
  }

  private async read(at: number, run: { wholePath: boolean; everyMs: number }): Promise<Reading> {
    const m = this.opts.metrics;
    let reports = 0;
    for (const v of (await m.stageCompletions.get()).values)
      if (v.labels.stage === 'analyze') reports = v.value;
    let batches = 0;
    for (const v of (await m.stageBatches.get()).values) batches += v.value;
    const service = new Map<string, { sum: number; count: number }>();
    for (const v of (await m.stageService.get()).values) {
      const s = service.get(String(v.labels.stage)) ?? { sum: 0, count: 0 };
      if (v.metricName?.endsWith('_sum')) s.sum = v.value;
      if (v.metricName?.endsWith('_count')) s.count = v.value;
      service.set(String(v.labels.stage), s);
    }
    const machineCpu = machineCpuSeconds();
    // Read from /proc once an interval rather than on every overview. Without PostgreSQL's share (the database is
    // away) this process's CPU is still worth keeping.
    const install = run.wholePath
      ? ((await this.opts.health.attempt('installation_cpu', run.everyMs, () =>
          installationCpu(this.opts.pool),
        )) ?? { process: await processCpuSeconds(), postgres: null })
      : null;
    return { at, reports, batches, service, machineCpu, install };
  }

  /** Each stage's service time as a moving average, and the interval's CPU into the sums of its band. */
  private async record(t: Reading, p: Reading): Promise<void> {
    const names: string[] = [];
    const values: number[] = [];
    const samples: number[] = [];
    for (const [stage, s] of t.service) {
      const before = p.service.get(stage) ?? { sum: 0, count: 0 };
      const n = s.count - before.count;
      if (n <= 0) continue;
      names.push(`service_seconds:${stage}`);
      values.push((s.sum - before.sum) / n);
      samples.push(n);
    }
    if (t.install && p.install) {
      // PostgreSQL's share only when it was seen both times (it may have restarted in between: then none).
      const postgres =
        t.install.postgres !== null && p.install.postgres !== null && t.install.postgres >= p.install.postgres
          ? t.install.postgres - p.install.postgres
          : 0;
      await this.recordCpuFit({
        reports: t.reports - p.reports,
        cpuSeconds: t.install.process - p.install.process + postgres,
        postgresSeconds: postgres,
        seconds: (t.at - p.at) / 1000,
        machineSeconds: t.machineCpu - p.machineCpu,
        transactions: t.batches - p.batches,
      });
    }
    if (!names.length) return;
    // A moving average weighted by how much each minute saw, so a quiet minute moves it little.
    await this.opts.pool.query(
      `insert into capacity_measurements (name, value, samples, updated_at)
       select name, value, n, now() from unnest($1::text[], $2::float8[], $3::bigint[]) as t(name, value, n)
       on conflict (name) do update set
         value = (capacity_measurements.value * least(capacity_measurements.samples, 10000) + excluded.value * excluded.samples)
                 / (least(capacity_measurements.samples, 10000) + excluded.samples),
         samples = capacity_measurements.samples + excluded.samples, updated_at = now()`,
      [names, values, samples],
    );
  }

  /**
   * The installation's CPU (src/ops/cpu.ts) and the reports it carried, interval by interval, split into intervals
   * without reports (its background: timers, the sampler, autovacuum) and with them. CPU per extra report is then
   * (busy CPU − the background's rate × busy time) / reports — an average per report would charge a quiet
   * interval's background to its few reports, and a least-squares slope over intervals is biased low by how unevenly
   * batch sweeps finish reports.
   */
  private async recordCpuFit(i: {
    reports: number;
    cpuSeconds: number;
    postgresSeconds: number;
    seconds: number;
    /** The whole machine's CPU over the interval: what else runs here (other services, a load generator). */
    machineSeconds: number;
    /** Transactions committed over the interval (claims, group commits): why a band's reports cost what they do. */
    transactions: number;
  }): Promise<void> {
    // The same sums per band of throughput (reports/s, powers of two): the pipeline's cost per report falls with
    // load (claims of one or two at 20/s, of a hundred in a burst), so a ceiling is read from the busiest band seen.
    const band = `cpu_band:${cpuBand(i.reports / i.seconds)}`;
    const parts: [string, number][] =
      i.reports > 0
        ? [
            ['cpu_busy:cpu', i.cpuSeconds],
            ['cpu_busy:postgres', i.postgresSeconds],
            ['cpu_busy:seconds', i.seconds],
            ['cpu_busy:reports', i.reports],
            [`${band}:cpu`, i.cpuSeconds],
            [`${band}:postgres`, i.postgresSeconds],
            [`${band}:seconds`, i.seconds],
            [`${band}:reports`, i.reports],
            [`${band}:machine`, i.machineSeconds],
            [`${band}:transactions`, i.transactions],
          ]
        : [
            ['cpu_idle:cpu', i.cpuSeconds],
            ['cpu_idle:postgres', i.postgresSeconds],
            ['cpu_idle:seconds', i.seconds],
          ];
    await this.opts.pool.query(
      `insert into capacity_measurements (name, value, samples, updated_at)
       select name, value, 1, now() from unnest($1::text[], $2::float8[]) as t(name, value)
       on conflict (name) do update set value = capacity_measurements.value + excluded.value,
         samples = capacity_measurements.samples + 1, updated_at = now()`,
      [parts.map(([n]) => n), parts.map(([, v]) => v)],
    );
  }
}

/** The throughput band of an interval: 2^k ≤ reports/s < 2^(k+1), k from 0 (under 2/s) to 12. */
export function cpuBand(reportsPerSecond: number): number {
  return Math.max(0, Math.min(12, Math.floor(Math.log2(Math.max(1, reportsPerSecond)))));
}
