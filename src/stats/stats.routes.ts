import { type Static, Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import { cacheNamespace } from '../platform/cache/cache.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';

const Counts = T.Object({
  submitted: T.Integer(),
  approved: T.Integer(),
  rejected: T.Integer(),
  duplicate: T.Integer(),
  fined: T.Integer(),
  paid: T.Integer(),
  finedSum: T.Integer({ description: 'Fines issued, in sum' }),
  paidSum: T.Integer({ description: 'Fines paid, in sum' }),
});
type Counts = Static<typeof Counts>;

const Day = T.String({ format: 'date', description: 'A day in Asia/Tashkent, YYYY-MM-DD' });
const Code = T.String({ pattern: '^[0-9]{1,4}(-[0-9]{1,2})?\\.[0-9]{1,2}$' });

const RangeQuery = T.Object(
  {
    from: T.Optional(Day),
    to: T.Optional(Day),
    type: T.Optional(Code),
  },
  { additionalProperties: false },
);

const SUMS = `coalesce(sum(submitted), 0)::bigint as submitted, coalesce(sum(approved), 0)::bigint as approved,
  coalesce(sum(rejected), 0)::bigint as rejected, coalesce(sum(duplicate), 0)::bigint as duplicate,
  coalesce(sum(fined), 0)::bigint as fined, coalesce(sum(paid), 0)::bigint as paid,
  coalesce(sum(fined_sum), 0)::bigint as fined_sum, coalesce(sum(paid_sum), 0)::bigint as paid_sum`;

interface SumRow {
  submitted: number;
  approved: number;
  rejected: number;
  duplicate: number;
  fined: number;
  paid: number;
  fined_sum: number;
  paid_sum: number;
}
const counts = (r: SumRow): Counts => ({
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
const TZ = 'Asia/Tashkent';

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

/**
 * Public statistics, read from the hourly roll-ups the transitions maintain (never an aggregate over reports).
 * No personal data: counts and sums only.
 */
/**
 * Public statistics responses. key: `<endpoint>?<query values>`; value: the response body. Refreshed every minute
 * (the roll-ups change with every transition, so a schedule, not invalidation, bounds their age); ten minutes of grace.
 */
export const STATS_CACHE = cacheNamespace<object>('stats', { ttl: '60s', grace: '10m' });

export function statsRoutes(app: App, deps: Deps): void {
  const { pool } = deps;
  const publicLimit = { max: deps.config.RATE_LIMIT_PUBLIC_PER_MINUTE, timeWindow: 60_000 };
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
        response: {
          200: T.Object({
            today: Counts,
            last30Days: Counts,
            allTime: Counts,
            asOf: T.String({ format: 'date-time' }),
          }),
        },
      },
    },
    async (_request, reply) => {
      publicCache(reply);
      return deps.cache.getOrSet(STATS_CACHE, 'summary', async () => {
        const { rows } = await pool.query<SumRow & { span: string }>(
          `with bounds as (select (date_trunc('day', now() at time zone '${TZ}')) at time zone '${TZ}' as today)
         select 'today' as span, ${SUMS} from stats_hourly, bounds where hour >= bounds.today
         union all
         select '30' as span, ${SUMS} from stats_hourly, bounds where hour >= bounds.today - interval '29 days'
         union all
         select 'all' as span, ${SUMS} from stats_hourly`,
        );
        const by = (span: string) => counts(rows.find((r) => r.span === span)!);
        return {
          today: by('today'),
          last30Days: by('30'),
          allTime: by('all'),
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
        querystring: RangeQuery,
        response: {
          200: T.Object({
            from: Day,
            to: Day,
            items: T.Array(
              T.Object({
                regionId: T.Union([T.Integer(), T.Null()]),
                regionName: T.Union([T.String(), T.Null()]),
                districtId: T.Union([T.Integer(), T.Null()]),
                districtName: T.Union([T.String(), T.Null()]),
                counts: Counts,
              }),
            ),
          }),
          ...errorResponses(400),
        },
      },
    },
    async (request, reply) => {
      const { from, to } = range(request.query, MAX_DAYS);
      publicCache(reply);
      return deps.cache.getOrSet(
        STATS_CACHE,
        `by-district?${from}&${to}&${request.query.type ?? ''}`,
        async () => {
          const { rows } = await pool.query<
            SumRow & { region_id: number; district_id: number; rname: string | null; dname: string | null }
          >(
            `select s.region_id, s.district_id, r.name as rname, d.name as dname, ${SUMS}
           from stats_hourly s
           left join regions r on r.id = s.region_id left join districts d on d.id = s.district_id
          where s.hour >= $1::date at time zone '${TZ}' and s.hour < ($2::date + 1) at time zone '${TZ}'
            and ($3::text is null or s.violation_code = $3)
          group by s.region_id, s.district_id, r.name, d.name
          order by sum(s.submitted) desc, s.region_id, s.district_id`,
            [from, to, request.query.type ?? null],
          );
          return {
            from,
            to,
            items: rows.map((r) => ({
              regionId: r.region_id || null,
              regionName: r.rname,
              districtId: r.district_id || null,
              districtName: r.dname,
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
        querystring: T.Object(
          {
            bucket: T.Union([T.Literal('day'), T.Literal('hour')], { default: 'day' }),
            from: T.Optional(Day),
            to: T.Optional(Day),
            type: T.Optional(Code),
            region: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647 })),
            district: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: T.Object({
            bucket: T.String(),
            from: Day,
            to: Day,
            points: T.Array(T.Object({ at: T.String({ format: 'date-time' }), counts: Counts })),
          }),
          ...errorResponses(400),
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const { from, to } = range(q, q.bucket === 'hour' ? MAX_HOURLY_DAYS : MAX_DAYS);
      const bucketSql =
        q.bucket === 'hour' ? 'hour' : `date_trunc('day', hour at time zone '${TZ}') at time zone '${TZ}'`;
      publicCache(reply);
      const key = `timeseries?${q.bucket}&${from}&${to}&${q.type ?? ''}&${q.region ?? ''}&${q.district ?? ''}`;
      return deps.cache.getOrSet(STATS_CACHE, key, async () => {
        const { rows } = await pool.query<SumRow & { at: Date }>(
          `select ${bucketSql} as at, ${SUMS}
           from stats_hourly
          where hour >= $1::date at time zone '${TZ}' and hour < ($2::date + 1) at time zone '${TZ}'
            and ($3::text is null or violation_code = $3)
            and ($4::int is null or region_id = $4) and ($5::int is null or district_id = $5)
          group by 1 order by 1`,
          [from, to, q.type ?? null, q.region ?? null, q.district ?? null],
        );
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
