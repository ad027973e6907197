import { type Static, Type as T } from '@sinclair/typebox';

export const Counts = T.Object({
  submitted: T.Integer(),
  approved: T.Integer(),
  rejected: T.Integer(),
  duplicate: T.Integer(),
  fined: T.Integer(),
  paid: T.Integer(),
  finedSum: T.Integer({ description: 'Fines issued, in sum' }),
  paidSum: T.Integer({ description: 'Fines paid, in sum' }),
});
export type Counts = Static<typeof Counts>;

const Day = T.String({ format: 'date', description: 'A day in Asia/Tashkent, YYYY-MM-DD' });
const ViolationCode = T.String({ pattern: '^[0-9]{1,4}(-[0-9]{1,2})?\\.[0-9]{1,2}$' });
const AreaId = T.Integer({ minimum: 1, maximum: 2_147_483_647 });
const Instant = T.String({ format: 'date-time' });

export const StatsSummary = T.Object({
  today: Counts,
  last30Days: Counts,
  allTime: Counts,
  asOf: T.String({ format: 'date-time' }),
});
export type StatsSummary = Static<typeof StatsSummary>;

export const StatsRangeQuery = T.Object(
  {
    from: T.Optional(Day),
    to: T.Optional(Day),
    type: T.Optional(ViolationCode),
  },
  { additionalProperties: false },
);

export const DistrictCounts = T.Object({
  regionId: T.Union([T.Integer(), T.Null()]),
  regionName: T.Union([T.String(), T.Null()]),
  districtId: T.Union([T.Integer(), T.Null()]),
  districtName: T.Union([T.String(), T.Null()]),
  counts: Counts,
});

export const StatsByDistrict = T.Object({ from: Day, to: Day, items: T.Array(DistrictCounts) });
export type StatsByDistrict = Static<typeof StatsByDistrict>;

export const TimeseriesQuery = T.Object(
  {
    bucket: T.Union([T.Literal('day'), T.Literal('hour')], { default: 'day' }),
    from: T.Optional(Day),
    to: T.Optional(Day),
    type: T.Optional(ViolationCode),
    region: T.Optional(AreaId),
    district: T.Optional(AreaId),
  },
  { additionalProperties: false },
);

export const StatsTimeseries = T.Object({
  bucket: T.String(),
  from: Day,
  to: Day,
  points: T.Array(T.Object({ at: T.String({ format: 'date-time' }), counts: Counts })),
});
export type StatsTimeseries = Static<typeof StatsTimeseries>;

export const MapQuery = T.Object(
  {
    bbox: T.String({
      pattern: '^-?\\d{1,3}(\\.\\d+)?,-?\\d{1,2}(\\.\\d+)?,-?\\d{1,3}(\\.\\d+)?,-?\\d{1,2}(\\.\\d+)?$',
      description: 'minLon,minLat,maxLon,maxLat',
      examples: ['69.1,41.2,69.4,41.4'],
    }),
    from: T.Optional(Instant),
    to: T.Optional(Instant),
  },
  { additionalProperties: false },
);

export const MapPoint = T.Object({
  lat: T.Number(),
  lon: T.Number(),
  violationCode: T.String(),
  at: T.String({ format: 'date-time', description: 'Incident time, to the hour' }),
  plate: T.String({ description: 'Region code only' }),
});

export const MapCluster = T.Object({ lat: T.Number(), lon: T.Number(), count: T.Integer() });

export const MapReports = T.Object({
  clustered: T.Boolean(),
  total: T.Integer(),
  points: T.Array(MapPoint),
  clusters: T.Array(MapCluster),
});
export type MapReports = Static<typeof MapReports>;

export const OpenDataQuery = T.Object(
  { from: T.Optional(Instant), to: T.Optional(Instant) },
  { additionalProperties: false },
);
