import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import { cacheNamespace } from '../platform/cache/cache.js';
import { AppError } from '../platform/errors/catalog.js';
import { csvStream } from '../platform/http/csv.js';
import { type App, errorResponses } from '../platform/http/types.js';

/** Only violations an inspector confirmed are public: nothing pending or refused is shown against a vehicle. */
const PUBLIC_STATUSES = ['approved', 'forwarded', 'fined', 'paid', 'rewarded'];
/** Beyond this many points in the view, the map gets clusters instead. */
const MAX_POINTS = 500;
const GRID = 32;
const MAX_RANGE_DAYS = 366;

/** The region code of a plate and nothing else: 01A777BC → 01******. */
export function maskPlate(plate: string): string {
  return plate.slice(0, 2) + '*'.repeat(Math.max(0, plate.length - 2));
}

const Bbox = T.String({
  pattern: '^-?\\d{1,3}(\\.\\d+)?,-?\\d{1,2}(\\.\\d+)?,-?\\d{1,3}(\\.\\d+)?,-?\\d{1,2}(\\.\\d+)?$',
  description: 'minLon,minLat,maxLon,maxLat',
  examples: ['69.1,41.2,69.4,41.4'],
});
const Instant = T.String({ format: 'date-time' });

function timeRange(q: { from?: string; to?: string }): { from: Date; to: Date } {
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * 86_400_000);
  if (from > to)
    throw new AppError('VALIDATION_FAILED', { field: 'from', message: 'from must not be after to' });
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * 86_400_000)
    throw new AppError('VALIDATION_FAILED', {
      field: 'to',
      message: `at most ${MAX_RANGE_DAYS} days at a time`,
    });
  return { from, to };
}

/** The public map and the open-data export: confirmed violations, no personal data, plates reduced to a region. */
/**
 * Map responses. key: the request's `bbox&from&to` as sent (an open range ends "now", so a minute's staleness is
 * the price of sharing it); value: the response body. Refreshed every minute; ten minutes of grace.
 */
export const MAP_CACHE = cacheNamespace<object>('map', { ttl: '60s', grace: '10m' });

export function publicDataRoutes(app: App, deps: Deps): void {
  const { pool } = deps;
  const publicLimit = { max: deps.config.RATE_LIMIT_PUBLIC_PER_MINUTE, timeWindow: 60_000 };

  app.get(
    '/v1/map/reports',
    {
      config: { shed: 'public', rateLimit: publicLimit },
      schema: {
        tags: ['stats'],
        summary: `Confirmed violations in a box and time range: points, or clusters when more than ${MAX_POINTS}`,
        querystring: T.Object(
          { bbox: Bbox, from: T.Optional(Instant), to: T.Optional(Instant) },
          { additionalProperties: false },
        ),
        response: {
          200: T.Object({
            clustered: T.Boolean(),
            total: T.Integer(),
            points: T.Array(
              T.Object({
                lat: T.Number(),
                lon: T.Number(),
                violationCode: T.String(),
                at: T.String({ format: 'date-time', description: 'Incident time, to the hour' }),
                plate: T.String({ description: 'Region code only' }),
              }),
            ),
            clusters: T.Array(T.Object({ lat: T.Number(), lon: T.Number(), count: T.Integer() })),
          }),
          ...errorResponses(400),
        },
      },
    },
    async (request, reply) => {
      const [minLon, minLat, maxLon, maxLat] = request.query.bbox.split(',').map(Number) as [
        number,
        number,
        number,
        number,
      ];
      if (
        !(
          minLon < maxLon &&
          minLat < maxLat &&
          maxLat <= 90 &&
          minLat >= -90 &&
          Math.abs(minLon) <= 180 &&
          Math.abs(maxLon) <= 180
        )
      )
        throw new AppError('VALIDATION_FAILED', {
          field: 'bbox',
          message: 'bbox is minLon,minLat,maxLon,maxLat',
        });
      reply.header('cache-control', 'public, max-age=60');
      const q = request.query;
      return deps.cache.getOrSet(MAP_CACHE, `${q.bbox}&${q.from ?? ''}&${q.to ?? ''}`, async () => {
        const { from, to } = timeRange(q);
        // Both queries go through the GiST index on (point, incident_at).
        const where = `point(lon, lat) <@ box(point($1, $2), point($3, $4)) and incident_at between $5 and $6
                     and status = any($7::text[])`;
        const params = [minLon, minLat, maxLon, maxLat, from, to, PUBLIC_STATUSES];
        const { rows: count } = await pool.query<{ n: number }>(
          `select count(*)::int as n from reports where ${where}`,
          params,
        );
        const total = count[0]!.n;
        if (total <= MAX_POINTS) {
          const { rows } = await pool.query<{
            lat: number;
            lon: number;
            violation_code: string;
            at: Date;
            plate: string;
          }>(
            `select round(lat::numeric, 4)::float8 as lat, round(lon::numeric, 4)::float8 as lon, violation_code,
                  date_trunc('hour', incident_at) as at, plate
             from reports where ${where} limit ${MAX_POINTS}`,
            params,
          );
          return {
            clustered: false,
            total,
            points: rows.map((r) => ({
              lat: r.lat,
              lon: r.lon,
              violationCode: r.violation_code,
              at: r.at.toISOString(),
              plate: maskPlate(r.plate),
            })),
            clusters: [],
          };
        }
        const cellLon = (maxLon - minLon) / GRID;
        const cellLat = (maxLat - minLat) / GRID;
        const { rows } = await pool.query<{ lat: number; lon: number; count: number }>(
          `select avg(lat) as lat, avg(lon) as lon, count(*)::int as count from reports where ${where}
          group by floor((lon - $1) / $8), floor((lat - $2) / $9)`,
          [...params, cellLon, cellLat],
        );
        return { clustered: true, total, points: [], clusters: rows };
      });
    },
  );

  app.get(
    '/v1/open-data/reports.csv',
    {
      config: { shed: 'public', rateLimit: publicLimit },
      schema: {
        tags: ['stats'],
        summary:
          'Open data: confirmed violations as anonymised CSV rows (no ids, no plates, place to ~100 m, time to the hour), streamed',
        querystring: T.Object(
          { from: T.Optional(Instant), to: T.Optional(Instant) },
          { additionalProperties: false },
        ),
        produces: ['text/csv'],
        response: { ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const { from, to } = timeRange(request.query);
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="jarima-reports.csv"')
        .header('cache-control', 'public, max-age=300');
      interface Row {
        id: string;
        at: Date;
        region: string | null;
        district: string | null;
        violation_code: string;
        status: string;
        plate_region_code: string | null;
        fine_amount_sum: number | null;
        lat: number;
        lon: number;
      }
      return reply.send(
        csvStream<Row, string>({
          header: [
            'incident_hour',
            'region',
            'district',
            'violation_code',
            'status',
            'plate_region',
            'fine_sum',
            'lat',
            'lon',
          ],
          pageSize: 2000,
          // Keyset on the time-ordered id (never exported): each page is one index range scan.
          fetchPage: async (after, limit) =>
            (
              await pool.query<Row>(
                `select r.id, date_trunc('hour', r.incident_at) as at, g.name as region, d.name as district,
                        r.violation_code, r.status, r.plate_region_code, r.fine_amount_sum,
                        round(r.lat::numeric, 3)::float8 as lat, round(r.lon::numeric, 3)::float8 as lon
                   from reports r left join regions g on g.id = r.region_id left join districts d on d.id = r.district_id
                  where r.status = any($1::text[]) and r.incident_at between $2 and $3
                    and ($4::uuid is null or r.id > $4::uuid)
                  order by r.id limit $5`,
                [PUBLIC_STATUSES, from, to, after, limit],
              )
            ).rows,
          keyOf: (r) => r.id,
          toFields: (r) => [
            r.at.toISOString(),
            r.region,
            r.district,
            r.violation_code,
            r.status,
            r.plate_region_code,
            r.fine_amount_sum,
            r.lat,
            r.lon,
          ],
        }),
      );
    },
  );
}
