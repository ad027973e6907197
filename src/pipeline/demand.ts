import type { Logger } from 'pino';
import { type ForecastModel, fitForecast, forecast } from '../platform/autoscale/forecast.js';
import type { Pool } from '../platform/db/pool.js';
import type { JobName } from './jobs.js';

const HOUR = 3_600_000;
// Four weeks: two weekly cycles initialise the weekly season, the rest trains it.
const HISTORY_DAYS = 28;
// The stages every filed report passes through within seconds of its arrival: they see the intake's arrivals.
const INTAKE_STAGES: readonly JobName[] = ['validate', 'dedupe', 'enrich', 'analyze'];
// How far ahead the pools are sized: minutes, because a pool resizes in well under a second and the forecast's hour
// buckets are coarse.
const LEAD_MS = 10 * 60_000;
// A coming hour this much busier than the present one is a peak worth preparing for.
const PEAK_RATIO = 1.5;

/**
 * The demand forecast: reports filed per hour (the roll-ups' `submitted`, so no scan of the reports table) over the
 * last four weeks, fitted with the seasonal model of src/platform/autoscale/forecast.ts and refitted every hour.
 * The autoscaler sizes the intake stages for the larger of the measured and the forecast rate (pre-scaling before
 * a predictable peak), and `onPeakAhead` runs when the next hour looks markedly busier than this one (cache
 * warming).
 */
export class DemandForecaster {
  private model: ForecastModel | null = null;
  /** Start of the hour after the last one the model has seen. */
  private next = 0;
  private timer: NodeJS.Timeout | null = null;

  /** Runs when the next hour is forecast markedly busier (the API process warms its caches). */
  onPeakAhead: (() => Promise<unknown>) | null = null;

  constructor(private readonly deps: { pool: Pool; logger: Logger }) {}

  /** Refits on the stored history up to the last full hour; returns the model (null: no history yet). */
  async retrain(now = Date.now()): Promise<ForecastModel | null> {
    const end = Math.floor(now / HOUR) * HOUR;
    const start = end - HISTORY_DAYS * 24 * HOUR;
    const { rows } = await this.deps.pool.query<{ hour: Date; n: number }>(
      `select hour, sum(submitted)::int as n from stats_hourly where hour >= $1 and hour < $2 group by hour`,
      [new Date(start), new Date(end)],
    );
    if (rows.length === 0) {
      this.model = null;
      return null;
    }
    // From the first hour with any report, every hour, an empty one as 0 (the model needs a contiguous series).
    const first = Math.min(...rows.map((r) => r.hour.getTime()));
    const counts = new Array<number>(Math.max(1, (end - first) / HOUR)).fill(0);
    for (const r of rows) counts[(r.hour.getTime() - first) / HOUR] = r.n;
    this.model = fitForecast(counts, { bucketsPerDay: 24 });
    this.next = end;
    this.deps.logger.debug(
      { forecast: this.model.description, hours: counts.length },
      'demand model refitted',
    );
    return this.model;
  }

  /** Reports per hour expected in the hour holding `at` (null without a model or past a day ahead). */
  expectedPerHour(at: number): number | null {
    if (!this.model) return null;
    const ahead = Math.floor((at - this.next) / HOUR) + 1;
    if (ahead < 1 || ahead > 24) return null;
    return forecast(this.model, ahead)[ahead - 1]!;
  }

  /**
   * Items per second a stage should be ready for: the forecast for now or for LEAD_MS ahead, whichever is larger —
   * so the pools grow in the last minutes before a busier hour, not after its queue has formed.
   */
  rate(stage: JobName, now = Date.now()): number | null {
    if (!INTAKE_STAGES.includes(stage)) return null;
    const here = this.expectedPerHour(now);
    const coming = this.expectedPerHour(now + LEAD_MS);
    if (here === null && coming === null) return null;
    return Math.max(here ?? 0, coming ?? 0) / 3600;
  }

  /** Whether the next hour is forecast markedly busier than this one (and busy at all). */
  peakAhead(now = Date.now()): boolean {
    const here = this.expectedPerHour(now) ?? 0;
    const coming = this.expectedPerHour(now + HOUR) ?? 0;
    return coming >= 60 && coming >= PEAK_RATIO * here;
  }

  /** Fits now and at every hour; before a predicted peak, runs onPeakAhead. */
  start(): void {
    const round = async () => {
      try {
        await this.retrain();
        if (this.onPeakAhead && this.peakAhead()) {
          this.deps.logger.info('demand forecast: a peak is coming; warming the caches');
          await this.onPeakAhead();
        }
      } catch (err) {
        this.deps.logger.warn({ err }, 'demand forecast failed');
      }
    };
    void round();
    this.timer = setInterval(() => void round(), HOUR);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
