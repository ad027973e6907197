import { type Static, Type as T } from '@sinclair/typebox';

/** A violation type's name: English always; Uzbek and Russian where the source data has them. */
export const ViolationName = T.Object({
  en: T.String(),
  uz: T.Union([T.String(), T.Null()]),
  ru: T.Union([T.String(), T.Null()]),
});

/** A violation type as the reference data holds it (src/reference/reference.ts). */
export const ViolationType = T.Object({
  code: T.String({ description: 'Article.part of the Code of Administrative Responsibility' }),
  article: T.String(),
  part: T.String(),
  name: ViolationName,
  bhmMin: T.Number(),
  bhmMax: T.Union([T.Number(), T.Null()]),
  extraSanction: T.Union([T.String(), T.Null()]),
  cameraRecordable: T.Boolean(),
  active: T.Boolean({ description: 'Whether citizens may report it' }),
});
export type ViolationType = Static<typeof ViolationType>;

/** A violation type with its fine in sum at today's BHM rate (null before the first known rate). */
export const ViolationTypeView = T.Object({
  ...ViolationType.properties,
  fineToday: T.Union([
    T.Object({ sumMin: T.Integer(), sumMax: T.Union([T.Integer(), T.Null()]), bhmRate: T.Integer() }),
    T.Null(),
  ]),
});
export type ViolationTypeView = Static<typeof ViolationTypeView>;

export const ViolationTypesQuery = T.Object({
  active: T.Optional(T.Boolean({ description: 'Only those citizens may report' })),
});

export const ViolationTypes = T.Object({ items: T.Array(ViolationTypeView) });
export type ViolationTypes = Static<typeof ViolationTypes>;

export const AreaLevel = T.Union([T.Literal('region'), T.Literal('district')], { default: 'region' });
export type AreaLevel = Static<typeof AreaLevel>;

export const BoundaryDetail = T.Union([T.Literal('full'), T.Literal('outline')], {
  default: 'full',
  description:
    'full: positions to ~10 m; outline: simplified to ~0.5 km (a fifth of the size), for a map of the whole ' +
    'country or a region',
});
export type BoundaryDetail = Static<typeof BoundaryDetail>;

export const BoundariesQuery = T.Object(
  { level: AreaLevel, detail: BoundaryDetail },
  { additionalProperties: false },
);

/** GeoJSON (RFC 7946) as stored: positions are [lon, lat]. */
export const Position = T.Tuple([T.Number(), T.Number()], { description: '[lon, lat]' });
export const AreaGeometry = T.Union([
  T.Object({ type: T.Literal('Polygon'), coordinates: T.Array(T.Array(Position)) }),
  T.Object({ type: T.Literal('MultiPolygon'), coordinates: T.Array(T.Array(T.Array(Position))) }),
]);

export const BoundaryCollection = T.Object({
  type: T.Literal('FeatureCollection'),
  features: T.Array(
    T.Object({
      type: T.Literal('Feature'),
      id: T.Integer(),
      properties: T.Object({
        name: T.String(),
        iso: T.Union([T.String(), T.Null()]),
        regionId: T.Union([T.Integer(), T.Null()]),
      }),
      geometry: AreaGeometry,
    }),
  ),
});
export type BoundaryCollection = Static<typeof BoundaryCollection>;

export const AreasQuery = T.Object({ level: AreaLevel }, { additionalProperties: false });

export const AreaView = T.Object({
  id: T.Integer(),
  name: T.String(),
  iso: T.Union([T.String(), T.Null()], { description: 'ISO 3166-2 code (regions)' }),
  regionId: T.Union([T.Integer(), T.Null()], { description: 'The region a district belongs to' }),
});

export const Areas = T.Object({ items: T.Array(AreaView) });
export type Areas = Static<typeof Areas>;
