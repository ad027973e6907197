import type { Cache } from '../platform/cache/cache.js';
import type { Config } from '../platform/config/config.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { sendCsv } from '../platform/http/csv.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { MAP_CACHE } from './stats.cache.js';
import {
  countPublicInArea,
  type MapArea,
  type OpenDataRow,
  openDataPage,
  publicClustersInArea,
  publicPointsInArea,
} from './stats.repository.js';
import { MapQuery, MapReports, OpenDataQuery } from './stats.schema.js';

/** Beyond this many points in the view, the map gets clusters instead. */
const MAX_POINTS = 500;
const GRID = 32;
const MAX_RANGE_DAYS = 366;

/** The region code of a plate and nothing else: 01A777BC → 01******. */
export function maskPlate(plate: string): string {
  return plate.slice(0, 2) + '*'.repeat(Math.max(0, plate.length - 2));
}

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

export interface PublicDataRoutesOptions {
  db: Queryable;
  cache: Cache;
  config: Pick<Config, 'RATE_LIMIT_PUBLIC_PER_MINUTE'>;
}

/** The public map and the open-data export: confirmed violations, no personal data, plates reduced to a region. */
export async function publicDataRoutes(app: App, opts: PublicDataRoutesOptions): Promise<void> {
  const { db, cache } = opts;
  const publicLimit = { max: opts.config.RATE_LIMIT_PUBLIC_PER_MINUTE, timeWindow: 60_000 };

  app.get(
    '/v1/map/reports',
    {
      config: { shed: 'public', rateLimit: publicLimit },
      schema: {
        tags: ['stats'],
        summary: `Confirmed violations in a box and time range: points, or clusters when more than ${MAX_POINTS}`,
        querystring: MapQuery,
        response: { 200: MapReports, ...errorResponses(400) },
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
      return cache.getOrSet(
        MAP_CACHE,
        `${q.bbox}&${q.from ?? ''}&${q.to ?? ''}`,
        async (): Promise<MapReports> => {
          const area: MapArea = { minLon, minLat, maxLon, maxLat, ...timeRange(q) };
          const total = await countPublicInArea(db, area);
          if (total <= MAX_POINTS) {
            const rows = await publicPointsInArea(db, area, MAX_POINTS);
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
          return { clustered: true, total, points: [], clusters: await publicClustersInArea(db, area, GRID) };
        },
      );
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
        querystring: OpenDataQuery,
        produces: ['text/csv'],
        response: { ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const { from, to } = timeRange(request.query);
      return sendCsv<OpenDataRow, string>(reply, {
        filename: 'jarima-reports.csv',
        cacheControl: 'public, max-age=300',
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
        // Keyset on the time-ordered id (never exported).
        fetchPage: (after, limit) => openDataPage(db, { from, to, after, limit }),
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
      });
    },
  );
}
