import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import type { AreaGeometry, Position } from '../geo/geo-index.js';
import { simplifyGeometry } from '../geo/simplify.js';
import { cacheNamespace } from '../platform/cache/cache.js';
import type { Queryable } from '../platform/db/pool.js';
import { sendCompressedJson } from '../platform/http/compressed.js';
import { type App, errorResponses, sendJson } from '../platform/http/types.js';
import { ViolationName } from './reference.schema.js';

const ViolationTypeView = T.Object({
  code: T.String({ description: 'Article.part of the Code of Administrative Responsibility' }),
  article: T.String(),
  part: T.String(),
  name: ViolationName,
  bhmMin: T.Number(),
  bhmMax: T.Union([T.Number(), T.Null()]),
  extraSanction: T.Union([T.String(), T.Null()]),
  cameraRecordable: T.Boolean(),
  active: T.Boolean({ description: 'Whether citizens may report it' }),
  fineToday: T.Union([
    T.Object({ sumMin: T.Integer(), sumMax: T.Union([T.Integer(), T.Null()]), bhmRate: T.Integer() }),
    T.Null(),
  ]),
});

/**
 * Reference data as response bodies (serialised once: the district outlines are ~0.5 MB of JSON). Kept until it
 * changes: `refreshReference` drops and refills it when boundaries are imported (any process; see
 * REFERENCE_CHANNEL). The hour's ttl is for `fineToday`, which moves when a new BHM rate takes effect at midnight.
 * key: one of REFERENCE_KEYS; value: a JSON string.
 */
export const REFERENCE_CACHE = cacheNamespace<string>('reference', { ttl: '1h', grace: '7d' });
const LEVELS = ['region', 'district'] as const;
type Level = (typeof LEVELS)[number];
type Detail = 'full' | 'outline';
const boundariesKey = (level: Level, detail: Detail) =>
  `${level === 'region' ? 'regions' : 'districts'}${detail === 'full' ? '' : `:${detail}`}`;
const areasKey = (level: Level) => `areas:${level}`;
const REFERENCE_KEYS = [
  'violation-types',
  'violation-types?active=true',
  'violation-types?active=false',
  ...LEVELS.flatMap((l) => [boundariesKey(l, 'full'), boundariesKey(l, 'outline'), areasKey(l)]),
];

/**
 * The outline detail's tolerance: 0.005° (~0.5 km) is under a pixel on a phone-sized map of a quarter of the
 * country, and keeps 2,362 of the regions' 18,260 positions (9,948 of the districts' 17,848).
 */
const OUTLINE_TOLERANCE = 0.005;

const LevelParam = T.Union([T.Literal('region'), T.Literal('district')], { default: 'region' });
const BoundariesQuery = T.Object(
  {
    level: LevelParam,
    detail: T.Union([T.Literal('full'), T.Literal('outline')], {
      default: 'full',
      description:
        'full: positions to ~10 m; outline: simplified to ~0.5 km (a fifth of the size), for a map of the whole ' +
        'country or a region',
    }),
  },
  { additionalProperties: false },
);

const AreaView = T.Object({
  id: T.Integer(),
  name: T.String(),
  iso: T.Union([T.String(), T.Null()], { description: 'ISO 3166-2 code (regions)' }),
  regionId: T.Union([T.Integer(), T.Null()], { description: 'The region a district belongs to' }),
});

const BoundaryCollection = T.Object({
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
      geometry: T.Object({ type: T.String(), coordinates: T.Array(T.Unknown()) }),
    }),
  ),
});

export function referenceRoutes(app: App, deps: Deps): void {
  app.get(
    '/v1/violation-types',
    {
      config: { shed: 'public' },
      schema: {
        tags: ['reference'],
        summary: 'Traffic violation types with their fines (BHM multiples and sum at today’s BHM)',
        querystring: T.Object({
          active: T.Optional(T.Boolean({ description: 'Only those citizens may report' })),
        }),
        response: { 200: T.Object({ items: T.Array(ViolationTypeView) }) },
      },
    },
    async (request, reply) => {
      const active = request.query.active;
      const key = active === undefined ? 'violation-types' : `violation-types?active=${active}`;
      const body = await deps.cache.getOrSet(REFERENCE_CACHE, key, async () =>
        violationTypesBody(deps, active),
      );
      // Already JSON: sent as it is, not serialised again.
      return sendJson(reply.header('cache-control', 'public, max-age=300'), body);
    },
  );

  app.get(
    '/v1/boundaries',
    {
      config: { shed: 'public' },
      schema: {
        tags: ['reference'],
        summary: 'Region or district outlines (GeoJSON) for maps',
        querystring: BoundariesQuery,
        response: { 200: BoundaryCollection, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const { level, detail } = request.query;
      const body = await deps.cache.getOrSet(REFERENCE_CACHE, boundariesKey(level, detail), () =>
        boundariesBody(deps.pool, level, detail),
      );
      return sendCompressedJson(request, reply.header('cache-control', 'public, max-age=3600'), body);
    },
  );

  app.get(
    '/v1/areas',
    {
      config: { shed: 'public' },
      schema: {
        tags: ['reference'],
        summary: 'Regions or districts by id and name, without their outlines (for lists and filters)',
        querystring: T.Object({ level: LevelParam }, { additionalProperties: false }),
        response: { 200: T.Object({ items: T.Array(AreaView) }), ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const { level } = request.query;
      const body = await deps.cache.getOrSet(REFERENCE_CACHE, areasKey(level), () =>
        areasBody(deps.pool, level),
      );
      return sendJson(reply.header('cache-control', 'public, max-age=3600'), body);
    },
  );
}

async function violationTypesBody(
  deps: Pick<Deps, 'reference'>,
  active: boolean | undefined,
): Promise<string> {
  const now = new Date();
  const items = deps.reference
    .violationTypes()
    .filter((v) => active === undefined || v.active === active)
    .map((v) => {
      const fine = deps.reference.fineFor(v.code, now);
      return { ...v, fineToday: fine && { sumMin: fine.sumMin, sumMax: fine.sumMax, bhmRate: fine.bhmRate } };
    });
  return JSON.stringify({ items });
}

interface AreaRow {
  id: number;
  name: string;
  iso: string | null;
  region_id: number | null;
}

const AREAS_SQL: Record<Level, string> = {
  region: 'select id, name, iso, null::int as region_id from regions order by id',
  district: 'select id, name, null as iso, region_id from districts order by id',
};
const OUTLINES_SQL: Record<Level, string> = {
  region: 'select id, name, iso, null::int as region_id, geometry from regions order by id',
  district: 'select id, name, null as iso, region_id, geometry from districts order by id',
};

async function boundariesBody(db: Queryable, level: Level, detail: Detail): Promise<string> {
  const { rows } = await db.query<AreaRow & { geometry: AreaGeometry }>(OUTLINES_SQL[level]);
  return JSON.stringify({
    type: 'FeatureCollection',
    features: rows.map((r) => ({
      type: 'Feature',
      id: r.id,
      properties: { name: r.name, iso: r.iso, regionId: r.region_id },
      geometry:
        detail === 'full' ? rounded(r.geometry) : simplifyGeometry(rounded(r.geometry), OUTLINE_TOLERANCE),
    })),
  });
}

async function areasBody(db: Queryable, level: Level): Promise<string> {
  const { rows } = await db.query<AreaRow>(AREAS_SQL[level]);
  return JSON.stringify({
    items: rows.map((r) => ({ id: r.id, name: r.name, iso: r.iso, regionId: r.region_id })),
  });
}

/** Positions to 4 decimals (~10 m, finer than any map of a district needs), dropping repeats that leaves. */
function rounded(g: AreaGeometry): AreaGeometry {
  const ring = (positions: Position[]) => {
    const out: Position[] = [];
    for (const [lon, lat] of positions) {
      const p = [Math.round(lon! * 1e4) / 1e4, Math.round(lat! * 1e4) / 1e4];
      const last = out.at(-1);
      if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
    }
    return out;
  };
  return g.type === 'Polygon'
    ? { type: 'Polygon', coordinates: g.coordinates.map(ring) }
    : { type: 'MultiPolygon', coordinates: g.coordinates.map((poly) => poly.map(ring)) };
}

/** Fills the reference namespace (at start-up, and after a change), so no citizen waits for the first read. */
export async function warmReference(deps: Pick<Deps, 'cache' | 'reference' | 'pool'>): Promise<void> {
  const bodies = new Map<string, () => Promise<string>>([
    ['violation-types', () => violationTypesBody(deps, undefined)],
    ['violation-types?active=true', () => violationTypesBody(deps, true)],
    ['violation-types?active=false', () => violationTypesBody(deps, false)],
  ]);
  for (const level of LEVELS) {
    for (const detail of ['full', 'outline'] as const)
      bodies.set(boundariesKey(level, detail), () => boundariesBody(deps.pool, level, detail));
    bodies.set(areasKey(level), () => areasBody(deps.pool, level));
  }
  await Promise.all(REFERENCE_KEYS.map((k) => deps.cache.getOrSet(REFERENCE_CACHE, k, bodies.get(k)!)));
}

/** After reference data changed (any process): reload the in-memory copies, then drop and refill the cache. */
export async function refreshReference(
  deps: Pick<Deps, 'cache' | 'reference' | 'pool' | 'boundaries'>,
): Promise<void> {
  await Promise.all([deps.reference.reload(), deps.boundaries.fresh(deps.pool)]);
  await deps.cache.invalidate(REFERENCE_CACHE, REFERENCE_KEYS);
  await warmReference(deps);
}
