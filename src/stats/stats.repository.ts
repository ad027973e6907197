import type { Queryable } from '../platform/db/pool.js';
import { COUNTERS, type Counter } from './rollup.js';

/** The roll-ups are kept per UTC hour; the public statistics count days as Asia/Tashkent has them. */
const TZ = 'Asia/Tashkent';

/** Every counter of the roll-ups, summed over the rows a statistics query selects. */
export type Sums = Record<Counter, number>;
const SUMS = COUNTERS.map((c) => `coalesce(sum(${c}), 0)::bigint as ${c}`).join(', ');

/** Tashkent days [from, to] (YYYY-MM-DD), optionally one violation type. */
export interface DayRange {
  from: string;
  to: string;
  type: string | null;
}

/** The sums since the start of today, over the last 30 days (today included) and over all time. */
export async function summarySums(db: Queryable): Promise<{ today: Sums; last30Days: Sums; allTime: Sums }> {
  const { rows } = await db.query<Sums & { span: string }>(
    `with bounds as (select (date_trunc('day', now() at time zone '${TZ}')) at time zone '${TZ}' as today)
     select 'today' as span, ${SUMS} from stats_hourly, bounds where hour >= bounds.today
     union all
     select '30' as span, ${SUMS} from stats_hourly, bounds where hour >= bounds.today - interval '29 days'
     union all
     select 'all' as span, ${SUMS} from stats_hourly`,
  );
  const by = (span: string) => rows.find((r) => r.span === span)!;
  return { today: by('today'), last30Days: by('30'), allTime: by('all') };
}

export interface DistrictSums extends Sums {
  /** 0 where the report's place was not (yet) known. */
  region_id: number;
  district_id: number;
  region_name: string | null;
  district_name: string | null;
}

/** The sums per region and district over a range, the busiest first. */
export async function sumsByDistrict(db: Queryable, range: DayRange): Promise<DistrictSums[]> {
  const { rows } = await db.query<DistrictSums>(
    `select s.region_id, s.district_id, r.name as region_name, d.name as district_name, ${SUMS}
       from stats_hourly s
       left join regions r on r.id = s.region_id left join districts d on d.id = s.district_id
      where s.hour >= $1::date at time zone '${TZ}' and s.hour < ($2::date + 1) at time zone '${TZ}'
        and ($3::text is null or s.violation_code = $3)
      group by s.region_id, s.district_id, r.name, d.name
      order by sum(s.submitted) desc, s.region_id, s.district_id`,
    [range.from, range.to, range.type],
  );
  return rows;
}

/** The sums per Tashkent day or per hour over a range, oldest first, optionally in one region or district. */
export async function sumsOverTime(
  db: Queryable,
  q: DayRange & { bucket: 'day' | 'hour'; region: number | null; district: number | null },
): Promise<(Sums & { at: Date })[]> {
  const bucket =
    q.bucket === 'hour' ? 'hour' : `date_trunc('day', hour at time zone '${TZ}') at time zone '${TZ}'`;
  const { rows } = await db.query<Sums & { at: Date }>(
    `select ${bucket} as at, ${SUMS}
       from stats_hourly
      where hour >= $1::date at time zone '${TZ}' and hour < ($2::date + 1) at time zone '${TZ}'
        and ($3::text is null or violation_code = $3)
        and ($4::int is null or region_id = $4) and ($5::int is null or district_id = $5)
      group by 1 order by 1`,
    [q.from, q.to, q.type, q.region, q.district],
  );
  return rows;
}

/** Only violations an inspector confirmed are public: nothing pending or refused is shown against a vehicle. */
const PUBLIC_STATUSES = ['approved', 'forwarded', 'fined', 'paid', 'rewarded'];

/** A box on the map (degrees) and a time range. */
export interface MapArea {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
  from: Date;
  to: Date;
}

// Every map query goes through the GiST index on (point, incident_at).
const IN_AREA = `point(lon, lat) <@ box(point($1, $2), point($3, $4)) and incident_at between $5 and $6
                 and status = any($7::text[])`;
const areaParams = (a: MapArea) => [a.minLon, a.minLat, a.maxLon, a.maxLat, a.from, a.to, PUBLIC_STATUSES];

export async function countPublicInArea(db: Queryable, area: MapArea): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from reports where ${IN_AREA}`,
    areaParams(area),
  );
  return rows[0]!.n;
}

export interface PublicPoint {
  /** To 4 decimals (~10 m). */
  lat: number;
  lon: number;
  violation_code: string;
  /** The incident time to the hour. */
  at: Date;
  plate: string;
}

export async function publicPointsInArea(
  db: Queryable,
  area: MapArea,
  limit: number,
): Promise<PublicPoint[]> {
  const { rows } = await db.query<PublicPoint>(
    `select round(lat::numeric, 4)::float8 as lat, round(lon::numeric, 4)::float8 as lon, violation_code,
            date_trunc('hour', incident_at) as at, plate
       from reports where ${IN_AREA} limit ${Number(limit)}`,
    areaParams(area),
  );
  return rows;
}

/** The area cut into grid × grid cells: each non-empty cell's count and the mean position of its points. */
export async function publicClustersInArea(
  db: Queryable,
  area: MapArea,
  grid: number,
): Promise<{ lat: number; lon: number; count: number }[]> {
  const { rows } = await db.query<{ lat: number; lon: number; count: number }>(
    `select avg(lat) as lat, avg(lon) as lon, count(*)::int as count from reports where ${IN_AREA}
      group by floor((lon - $1) / $8), floor((lat - $2) / $9)`,
    [...areaParams(area), (area.maxLon - area.minLon) / grid, (area.maxLat - area.minLat) / grid],
  );
  return rows;
}

/** One open-data row: `id` is the page key and is never exported; the plate is not read at all. */
export interface OpenDataRow {
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

/** A page of confirmed violations in a time range, after `after` in id order: one index range scan per page. */
export async function openDataPage(
  db: Queryable,
  q: { from: Date; to: Date; after: string | null; limit: number },
): Promise<OpenDataRow[]> {
  const { rows } = await db.query<OpenDataRow>(
    `select r.id, date_trunc('hour', r.incident_at) as at, g.name as region, d.name as district,
            r.violation_code, r.status, r.plate_region_code, r.fine_amount_sum,
            round(r.lat::numeric, 3)::float8 as lat, round(r.lon::numeric, 3)::float8 as lon
       from reports r left join regions g on g.id = r.region_id left join districts d on d.id = r.district_id
      where r.status = any($1::text[]) and r.incident_at between $2 and $3
        and ($4::uuid is null or r.id > $4::uuid)
      order by r.id limit $5`,
    [PUBLIC_STATUSES, q.from, q.to, q.after, q.limit],
  );
  return rows;
}
