import type { Cache } from '../platform/cache/cache.js';
import type { Config } from '../platform/config/config.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { STATS_CACHE } from './stats.cache.js';
import { type Sums, summarySums, sumsByDistrict, sumsOverTime } from './stats.repository.js';
import {
  type Counts,
  StatsByDistrict,
  StatsRangeQuery,
  StatsSummary,
  StatsTimeseries,
  TimeseriesQuery,
} from './stats.schema.js';

const counts = (r: Sums): Counts => ({
  submitted: r.submitted,
  approved: r.approved,
  rejected: r.rejected,
  duplicate: r.duplicate,
  fined: r.fined,
  paid: r.paid,
  finedSum: r.fined_sum,
  paidSum: r.paid_sum,
});

const MAX_DAYS = 366;
const MAX_HOURLY_DAYS = 31;

/** [from, to] as Tashkent days → [start, end) instants; defaults to the last 30 days. */
function range(q: { from?: string; to?: string }, maxDays: number): { from: string; to: string } {
  const today = new Date(Date.now() + 5 * 3600_000).toISOString().slice(0, 10); // Tashkent is UTC+5, no DST
  const to = q.to ?? today;
  const from = q.from ?? new Date(Date.parse(to) - 29 * 86_400_000).toISOString().slice(0, 10);
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  if (days < 1)
    throw new AppError('VALIDATION_FAILED', { field: 'from', message: 'from must not be after to' });
  if (days > maxDays)
    throw new AppError('VALIDATION_FAILED', { field: 'to', message: `at most ${maxDays} days at a time` });
  return { from, to };
}

export interface StatsRoutesOptions {
  db: Queryable;
  cache: Cache;
  config: Pick<Config, 'RATE_LIMIT_PUBLIC_PER_MINUTE'>;
}

/**
 * Public statistics, read from the hourly roll-ups the transitions maintain (never an aggregate over reports).
 * No personal data: counts and sums only.
 */
export async function statsRoutes(app: App, opts: StatsRoutesOptions): Promise<void> {
  const { db, cache } = opts;
  const publicLimit = { max: opts.config.RATE_LIMIT_PUBLIC_PER_MINUTE, timeWindow: 60_000 };
  const publicCache = (reply: { header(k: string, v: string): unknown }) =>
    reply.header('cache-control', 'public, max-age=60');

  app.get(
    '/v1/stats/summary',
    {
      config: { shed: 'public', rateLimit: publicLimit },
      schema: {
        tags: ['stats'],
        summary:
          'Reports, decisions, fines and payments: today, the last 30 days and all time (Asia/Tashkent days)',
        response: { 200: StatsSummary },
      },
    },
    async (_request, reply) => {
      publicCache(reply);
      return cache.getOrSet(STATS_CACHE, 'summary', async (): Promise<StatsSummary> => {
        const sums = await summarySums(db);
        return {
          today: counts(sums.today),
          last30Days: counts(sums.last30Days),
          allTime: counts(sums.allTime),
          asOf: new Date().toISOString(),
        };
      });
    },
  );

  app.get(
    '/v1/stats/by-district',
    {
      config: { shed: 'public', rateLimit: publicLimit },
      schema: {
        tags: ['stats'],
        summary:
          'Counts per region and district over a range of days (default: the last 30), optionally one type',
        querystring: StatsRangeQuery,
        response: { 200: StatsByDistrict, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const { from, to } = range(request.query, MAX_DAYS);
      const type = request.query.type ?? null;
      publicCache(reply);
      return cache.getOrSet(
        STATS_CACHE,
        `by-district?${from}&${to}&${type ?? ''}`,
        async (): Promise<StatsByDistrict> => {
          const rows = await sumsByDistrict(db, { from, to, type });
          return {
            from,
            to,
            items: rows.map((r) => ({
              regionId: r.region_id || null,
              regionName: r.region_name,
              districtId: r.district_id || null,
              districtName: r.district_name,
              counts: counts(r),
            })),
          };
        },
      );
    },
  );

  app.get(
    '/v1/stats/timeseries',
    {
      config: { shed: 'public', rateLimit: publicLimit },
      schema: {
        tags: ['stats'],
        summary: `Counts per day or hour (Asia/Tashkent) over a range (hourly: at most ${MAX_HOURLY_DAYS} days)`,
        querystring: TimeseriesQuery,
        response: { 200: StatsTimeseries, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const { from, to } = range(q, q.bucket === 'hour' ? MAX_HOURLY_DAYS : MAX_DAYS);
      publicCache(reply);
      const key = `timeseries?${q.bucket}&${from}&${to}&${q.type ?? ''}&${q.region ?? ''}&${q.district ?? ''}`;
      return cache.getOrSet(STATS_CACHE, key, async (): Promise<StatsTimeseries> => {
        const rows = await sumsOverTime(db, {
          bucket: q.bucket,
          from,
          to,
          type: q.type ?? null,
          region: q.region ?? null,
          district: q.district ?? null,
        });
        return {
          bucket: q.bucket,
          from,
          to,
          points: rows.map((r) => ({ at: r.at.toISOString(), counts: counts(r) })),
        };
      });
    },
  );
}
