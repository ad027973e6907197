import type { BoundariesCache } from '../geo/boundaries-cache.js';
import type { AreaGeometry, Position } from '../geo/geo-index.js';
import { simplifyGeometry } from '../geo/simplify.js';
import { type Cache, cacheNamespace } from '../platform/cache/cache.js';
import type { Queryable } from '../platform/db/pool.js';
import type { ReferenceData } from './reference.js';
import { listAreas, listOutlines } from './reference.repository.js';
import type {
  AreaLevel,
  Areas,
  BoundaryCollection,
  BoundaryDetail,
  ViolationTypes,
} from './reference.schema.js';

/**
 * Reference data as response bodies (serialised once: the district outlines are ~0.5 MB of JSON). Kept until it
 * changes: `refreshReference` drops and refills it when boundaries are imported (any process; see
 * REFERENCE_CHANNEL). The hour's ttl is for `fineToday`, which moves when a new BHM rate takes effect at midnight.
 * key: one of REFERENCE_KEYS; value: a JSON string.
 */
export const REFERENCE_CACHE = cacheNamespace<string>('reference', { ttl: '1h', grace: '7d' });

const LEVELS = ['region', 'district'] as const satisfies readonly AreaLevel[];
export const violationTypesKey = (active: boolean | undefined) =>
  active === undefined ? 'violation-types' : `violation-types?active=${active}`;
export const boundariesKey = (level: AreaLevel, detail: BoundaryDetail) =>
  `${level === 'region' ? 'regions' : 'districts'}${detail === 'full' ? '' : `:${detail}`}`;
export const areasKey = (level: AreaLevel) => `areas:${level}`;
const REFERENCE_KEYS = [
  violationTypesKey(undefined),
  violationTypesKey(true),
  violationTypesKey(false),
  ...LEVELS.flatMap((l) => [boundariesKey(l, 'full'), boundariesKey(l, 'outline'), areasKey(l)]),
];

/**
 * The outline detail's tolerance: 0.005° (~0.5 km) is under a pixel on a phone-sized map of a quarter of the
 * country, and keeps 2,362 of the regions' 18,260 positions (9,948 of the districts' 17,848).
 */
const OUTLINE_TOLERANCE = 0.005;

export async function violationTypesBody(
  reference: ReferenceData,
  active: boolean | undefined,
): Promise<string> {
  const now = new Date();
  const items = reference
    .violationTypes()
    .filter((v) => active === undefined || v.active === active)
    .map((v) => {
      const fine = reference.fineFor(v.code, now);
      return { ...v, fineToday: fine && { sumMin: fine.sumMin, sumMax: fine.sumMax, bhmRate: fine.bhmRate } };
    });
  return JSON.stringify({ items } satisfies ViolationTypes);
}

export async function boundariesBody(
  db: Queryable,
  level: AreaLevel,
  detail: BoundaryDetail,
): Promise<string> {
  const rows = await listOutlines(db, level);
  return JSON.stringify({
    type: 'FeatureCollection',
    features: rows.map((r) => ({
      type: 'Feature',
      id: r.id,
      properties: { name: r.name, iso: r.iso, regionId: r.region_id },
      geometry:
        detail === 'full' ? rounded(r.geometry) : simplifyGeometry(rounded(r.geometry), OUTLINE_TOLERANCE),
    })),
  } satisfies BoundaryCollection);
}

export async function areasBody(db: Queryable, level: AreaLevel): Promise<string> {
  const rows = await listAreas(db, level);
  return JSON.stringify({
    items: rows.map((r) => ({ id: r.id, name: r.name, iso: r.iso, regionId: r.region_id })),
  } satisfies Areas);
}

/** Positions to 4 decimals (~10 m, finer than any map of a district needs), dropping repeats that leaves. */
function rounded(g: AreaGeometry): AreaGeometry {
  const ring = (positions: Position[]) => {
    const out: Position[] = [];
    for (const [lon, lat] of positions) {
      const p: Position = [Math.round(lon * 1e4) / 1e4, Math.round(lat * 1e4) / 1e4];
      const last = out.at(-1);
      if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
    }
    return out;
  };
  return g.type === 'Polygon'
    ? { type: 'Polygon', coordinates: g.coordinates.map(ring) }
    : { type: 'MultiPolygon', coordinates: g.coordinates.map((poly) => poly.map(ring)) };
}

/** What the reference bodies are built from (the composition root's deps fit as they are). */
export interface ReferenceSources {
  pool: Queryable;
  cache: Cache;
  reference: ReferenceData;
}

/** Fills the reference namespace (at start-up, and after a change), so no citizen waits for the first read. */
export async function warmReference(src: ReferenceSources): Promise<void> {
  const bodies = new Map<string, () => Promise<string>>();
  for (const active of [undefined, true, false])
    bodies.set(violationTypesKey(active), () => violationTypesBody(src.reference, active));
  for (const level of LEVELS) {
    for (const detail of ['full', 'outline'] as const)
      bodies.set(boundariesKey(level, detail), () => boundariesBody(src.pool, level, detail));
    bodies.set(areasKey(level), () => areasBody(src.pool, level));
  }
  await Promise.all(REFERENCE_KEYS.map((k) => src.cache.getOrSet(REFERENCE_CACHE, k, bodies.get(k)!)));
}

/** After reference data changed (any process): reload the in-memory copies, then drop and refill the cache. */
export async function refreshReference(
  src: ReferenceSources & { boundaries: BoundariesCache },
): Promise<void> {
  await Promise.all([src.reference.reload(), src.boundaries.fresh(src.pool)]);
  await src.cache.invalidate(REFERENCE_CACHE, REFERENCE_KEYS);
  await warmReference(src);
}
