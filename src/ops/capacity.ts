import os from 'node:os';
import type { Queryable } from '../platform/db/pool.js';

/** The stages every report passes before an inspector sees it, in order. */
export const INTAKE_STAGES = ['validate', 'dedupe', 'enrich', 'analyze'] as const;

/**
 * What a benchmark measured on the reference machine (bench/README.md: 2 vCPU EPYC, `npm run bench -- pipeline`),
 * used where this installation has not measured itself yet: worker seconds per report per stage, and CPU per report
 * for the whole path with a photo upload at a steady 100 reports/s (server 11.0–12.0 ms + PostgreSQL 3.8–4.3 ms,
 * measured 2026-11-28).
 */
export const BENCHMARK = {
  serviceSeconds: { validate: 0.004, dedupe: 0.004, enrich: 0.003, analyze: 0.006 } as Record<string, number>,
  cpuSecondsPerReport: 0.0155,
};

export interface CapacityInput {
  daily: number;
  peakFactor: number;
  /** Seconds from acceptance to the review queue that 95 % of reports must beat at the peak. */
  targetP95: number;
  /** This installation's measurements (capacity_measurements), by name. */
  measured: Record<string, { value: number; samples: number }>;
  cores: number;
  memoryBytes: number;
  cacheMb: number;
}

export interface StagePlan {
  stage: string;
  serviceMs: number;
  source: 'measured here' | 'benchmark';
  workers: number;
  utilisation: number;
  p95WaitMs: number;
}

export interface CapacityPlan {
  peakPerSecond: number;
  stages: StagePlan[];
  workers: number;
  dbConnections: number;
  cpuCores: number;
  memoryGiB: number;
  cpuSecondsPerReport: { value: number; source: string };
  /**
   * What this machine's cores sustain at most, by CPU per report, and the load (reports/s) that figure was measured
   * at, when it was measured here.
   */
  thisMachine: {
    cores: number;
    otherCores: number;
    maxReportsPerSecond: number;
    fitsPeak: boolean;
    measuredAtPerSecond?: number;
  };
  assumptions: string[];
}

// The API's share of a process's connection pool, and what one Node process and PostgreSQL need in memory.
const API_CONNECTIONS = 10;
const PROCESS_MB = 350;
const POSTGRES_MB = 1024;
const CPU_UTILISATION = 0.7;

/**
 * Sizes an installation for `daily` reports with a busiest hour `peakFactor` times the mean. Each intake stage is
 * an M/M/c queue (Poisson arrivals at the peak rate λ, service time S): the smallest c whose 95th-percentile wait
 * (Erlang C) fits the stage's share of the target; CPU from CPU per report at 70 % utilisation; connections as the
 * workers hold them (two each, one LISTEN per pool) plus the API's; memory per process plus the cache and PostgreSQL.
 */
export function planCapacity(input: CapacityInput): CapacityPlan {
  const lambda = (input.daily * input.peakFactor) / 86_400;
  const share = input.targetP95 / INTAKE_STAGES.length;
  const stages = INTAKE_STAGES.map((stage): StagePlan => {
    const m = input.measured[`service_seconds:${stage}`];
    const s = m && m.samples >= 100 ? m.value : BENCHMARK.serviceSeconds[stage]!;
    const waitBudget = Math.max(share - s, share / 2);
    let c = Math.max(1, Math.ceil(lambda * s));
    while (waitQuantile(c, lambda, s, 0.95) > waitBudget) c++;
    return {
      stage,
      serviceMs: s * 1000,
      source: m && m.samples >= 100 ? 'measured here' : 'benchmark',
      workers: c,
      utilisation: (lambda * s) / c,
      p95WaitMs: waitQuantile(c, lambda, s, 0.95) * 1000,
    };
  });
  const workers = stages.reduce((a, s) => a + s.workers, 0);
  const fitted = marginalCpu(input.measured);
  const cpuPerReport = fitted
    ? { value: fitted.perReport, source: `measured here: ${fitted.how}` }
    : { value: BENCHMARK.cpuSecondsPerReport, source: 'benchmark (bench/README.md)' };
  const cpuCores = (lambda * cpuPerReport.value) / CPU_UTILISATION;
  const processes = 1 + Math.max(1, Math.ceil(cpuCores / 2)); // an API process, and a worker process per two cores
  // On a shared machine the installation has only the cores the rest leaves it: what other processes used while it
  // was busiest (measured by the same sums), never less than a tenth of the machine.
  const otherCores = Math.min(fitted?.otherCores ?? 0, 0.9 * input.cores);
  const maxHere = (input.cores - otherCores) / cpuPerReport.value;
  return {
    peakPerSecond: lambda,
    stages,
    workers,
    dbConnections: stages.reduce((a, s) => a + 2 * s.workers + 1, 0) + API_CONNECTIONS,
    cpuCores,
    memoryGiB: (processes * PROCESS_MB + input.cacheMb + POSTGRES_MB) / 1024,
    cpuSecondsPerReport: cpuPerReport,
    thisMachine: {
      cores: input.cores,
      otherCores,
      maxReportsPerSecond: maxHere,
      fitsPeak: maxHere * CPU_UTILISATION >= lambda,
      ...(fitted?.atPerSecond ? { measuredAtPerSecond: fitted.atPerSecond } : {}),
    },
    assumptions: [
      `peak ${input.peakFactor}× the daily mean: ${lambda.toFixed(2)} reports/s`,
      `each report passes ${INTAKE_STAGES.join(', ')}; each stage gets ${(share * 1000).toFixed(0)} ms of the ${input.targetP95} s target`,
      'arrivals are Poisson at the peak rate; service times exponential (M/M/c, Erlang C)',
      `CPU sized for ${CPU_UTILISATION * 100} % utilisation; a Node process ${PROCESS_MB} MB, PostgreSQL ${POSTGRES_MB} MB, cache ${input.cacheMb} MB`,
      'uploads and the citizens’ and inspectors’ reads are inside CPU per report (the benchmark’s whole path); review, forwarding and notifications are not sized here',
    ],
  };
}

/**
 * A throughput band counts once it has carried this many reports over this many intervals. An interval counts the
 * reports that reached review in it, whose earlier stages may have spent their CPU in the interval before: one
 * interval that finishes a backlog (or a batch held for seconds) looks cheap. The bench's 5 s intervals showed it —
 * a band of one interval at 269 reports/s read 3.2 ms per report where the 55 s band at 185/s read 6.5 ms, and the
 * ceiling from it was +44 % and +61 % off a measured burst (measured 2026-11-28, bench/README.md design decisions).
 */
const BAND_MIN_REPORTS = 500;
const BAND_MIN_INTERVALS = 6;

/**
 * The installation's CPU per extra report (src/ops/capacity-recorder.ts keeps the sums of this process's and a
 * local PostgreSQL's CPU): busy intervals' CPU less the background rate measured in intervals without reports, per
 * report. The pipeline's cost per report falls with load (sweeps claim more at once), so the figure is taken from the
 * busiest throughput band (powers of two of reports/s) that has carried enough reports over enough intervals, and
 * from all busy intervals when none has. (A fit of a cost per transaction plus a cost per report over the bands was
 * tried and dropped: its ceiling moved 392 → 1,480 reports/s as the background moved 0.35 → 0.15 cores.) Without
 * idle intervals the background cannot be told apart, and the plain average per report is used (an overestimate:
 * the background is charged to the reports).
 */
export function marginalCpu(
  m: CapacityInput['measured'],
): { perReport: number; how: string; otherCores: number; atPerSecond: number } | null {
  const v = (k: string) => m[k]?.value ?? 0;
  if (v('cpu_busy:reports') < 100) return null;
  const idleSeconds = v('cpu_idle:seconds');
  const intervals = (m['cpu_busy:cpu']?.samples ?? 0) + (m['cpu_idle:cpu']?.samples ?? 0);
  const withPostgres = v('cpu_busy:postgres') > 0;
  const scope = withPostgres
    ? 'the server and PostgreSQL'
    : 'the server alone (PostgreSQL not seen on this machine: its share is missing)';
  const bands = Object.keys(m)
    .map((k) => /^cpu_band:(\d+):reports$/.exec(k)?.[1])
    .filter(
      (b): b is string =>
        b !== undefined &&
        v(`cpu_band:${b}:reports`) >= BAND_MIN_REPORTS &&
        (m[`cpu_band:${b}:cpu`]?.samples ?? 0) >= BAND_MIN_INTERVALS,
    )
    .sort((a, b) => Number(b) - Number(a));
  const prefix = bands.length ? `cpu_band:${bands[0]}` : 'cpu_busy';
  const reports = v(`${prefix}:reports`);
  const busyCpu = v(`${prefix}:cpu`);
  const busySeconds = v(`${prefix}:seconds`);
  // Cores other processes kept busy meanwhile (the machine's CPU less the installation's), where it was measured.
  const machineCpu = v(`${prefix}:machine`);
  const otherCores =
    machineCpu > 0 && busySeconds > 0 ? Math.max(0, (machineCpu - busyCpu) / busySeconds) : 0;
  // Transactions (sweeps' claims, the intake's group commits) per report: what makes a load's reports cheaper.
  const atPerSecond = reports / busySeconds;
  const transactions = v(`${prefix}:transactions`);
  const load = bands.length
    ? `, at the busiest load measured (${atPerSecond.toFixed(0)} reports/s over ${reports} reports` +
      `${transactions > 0 ? `, ${(transactions / reports).toFixed(2)} transactions each` : ''})`
    : '';
  const postgresShare = (perReport: number, background: number) => {
    const pg = (v(`${prefix}:postgres`) - background) / reports;
    return withPostgres && pg > 0
      ? `, ${(pg * 1000).toFixed(1)} of ${(perReport * 1000).toFixed(1)} ms PostgreSQL's`
      : '';
  };
  if (idleSeconds >= 30) {
    const rate = busySeconds / idleSeconds;
    const background = v('cpu_idle:cpu') * rate;
    const perReport = (busyCpu - background) / reports;
    if (perReport > 0)
      return {
        perReport,
        how: `${scope}, CPU per extra report over their background${postgresShare(perReport, v('cpu_idle:postgres') * rate)}${load}, ${intervals} intervals`,
        otherCores,
        atPerSecond,
      };
  }
  return {
    perReport: busyCpu / reports,
    how: `${scope}, CPU per report with the background included${postgresShare(busyCpu / reports, 0)}${load}, ${intervals} intervals`,
    otherCores,
    atPerSecond,
  };
}

/**
 * The q-quantile of the wait in an M/M/c queue: P(W > t) = C(c, a)·e^(−(c − a)·t/S), a = λS, with C the Erlang C
 * probability of waiting at all. Infinite when the stage cannot keep up (a ≥ c).
 */
export function waitQuantile(c: number, lambda: number, s: number, q: number): number {
  const a = lambda * s;
  if (a >= c) return Number.POSITIVE_INFINITY;
  const wait = erlangC(c, a);
  if (wait <= 1 - q) return 0;
  return (s * Math.log(wait / (1 - q))) / (c - a);
}

/** Erlang C: the probability an arrival waits, computed through Erlang B's stable recursion. */
export function erlangC(c: number, a: number): number {
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  const rho = a / c;
  return b / (1 - rho + rho * b);
}

/** What this installation has measured; nothing if its database was never migrated (the benchmark's figures then). */
export async function loadMeasurements(db: Queryable): Promise<CapacityInput['measured']> {
  try {
    const { rows } = await db.query<{ name: string; value: number; samples: number }>(
      'select name, value, samples from capacity_measurements',
    );
    return Object.fromEntries(rows.map((r) => [r.name, { value: r.value, samples: r.samples }]));
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return {};
    throw err;
  }
}

export function machine(): { cores: number; memoryBytes: number } {
  return { cores: os.availableParallelism(), memoryBytes: os.totalmem() };
}

/**
 * Below this share of the ceiling, the load CPU per report was measured at is too light to carry to the ceiling:
 * the cost per report keeps falling as load rises, and from ~⅓ of the maximum the ceiling came out 40 % under a
 * steady rate the machine kept up with and 52 % under a burst (measured 2026-11-29, bench/README.md `autoscale`).
 */
const EXTRAPOLATION_WARN_SHARE = 0.5;

/** What the ceiling's figure is worth, when it was measured at a load far below the ceiling. */
function extrapolationWarning(m: CapacityPlan['thisMachine']): string[] {
  if (!m.measuredAtPerSecond || m.measuredAtPerSecond >= EXTRAPOLATION_WARN_SHARE * m.maxReportsPerSecond)
    return [];
  const share = (100 * m.measuredAtPerSecond) / m.maxReportsPerSecond;
  return [
    `The CPU per report was measured at ${m.measuredAtPerSecond.toFixed(0)} reports/s, ${share.toFixed(0)} % of that ` +
      'ceiling. It falls as load rises (claims take more reports at once), so the ceiling is a lower bound — in the ' +
      'benchmark 40 % under what the machine kept up with; a load nearer the peak measures it better.',
  ];
}

/** The plan as the table `jarima capacity` prints. */
export function formatPlan(p: CapacityPlan, input: CapacityInput): string {
  const pad = (rows: string[][]) => {
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return rows.map((r) =>
      r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  '),
    );
  };
  const lines = [
    `Capacity for ${input.daily.toLocaleString('en')} reports a day, busiest hour ${input.peakFactor}× the mean ` +
      `(${p.peakPerSecond.toFixed(2)}/s), 95 % of reports in the review queue within ${input.targetP95} s:`,
    '',
    ...pad([
      ['stage', 'service ms', 'source', 'workers', 'utilisation', 'p95 wait ms'],
      ...p.stages.map((s) => [
        s.stage,
        s.serviceMs.toFixed(1),
        s.source,
        String(s.workers),
        `${(s.utilisation * 100).toFixed(0)} %`,
        s.p95WaitMs.toFixed(1),
      ]),
    ]),
    '',
    ...pad([
      ['need', 'amount'],
      ['pipeline workers (JARIMA_WORKERS)', p.stages.map((s) => `${s.stage}:${s.workers}`).join(',')],
      ['database connections', String(p.dbConnections)],
      ['CPU cores', p.cpuCores.toFixed(2)],
      ['memory', `${p.memoryGiB.toFixed(1)} GiB`],
      [
        'CPU per report',
        `${(p.cpuSecondsPerReport.value * 1000).toFixed(1)} ms (${p.cpuSecondsPerReport.source})`,
      ],
    ]),
    '',
    `This machine (${p.thisMachine.cores} cores${p.thisMachine.otherCores >= 0.05 ? `, ${p.thisMachine.otherCores.toFixed(2)} of them busy with other processes when this installation was busiest` : ''}): ` +
      `at most ~${p.thisMachine.maxReportsPerSecond.toFixed(0)} reports/s at full CPU; the peak ${p.thisMachine.fitsPeak ? 'fits' : 'does NOT fit'} ` +
      `at ${CPU_UTILISATION * 100} % utilisation.`,
    ...extrapolationWarning(p.thisMachine),
    '',
    'Assumptions:',
    ...p.assumptions.map((a) => `  - ${a}`),
  ];
  return lines.join('\n');
}
