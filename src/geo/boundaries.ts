import { readFile } from 'node:fs/promises';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import type { Pool, PoolClient } from '../platform/db/pool.js';
import { withTransaction } from '../platform/db/pool.js';
import { REFERENCE_CHANNEL } from '../reference/reference.js';
import {
  type AreaGeometry,
  bboxOf,
  GeoIndex,
  polygonsOf,
  type RegionArea,
  toAreaGeometry,
} from './geo-index.js';

export type BoundaryLevel = 'region' | 'district';

export interface BoundaryFeature {
  shapeId: string;
  name: string;
  iso: string | null;
  geometry: AreaGeometry;
}

export interface BoundaryFile {
  level: BoundaryLevel;
  features: BoundaryFeature[];
}

export interface ImportResult {
  level: BoundaryLevel;
  /** Features in the file, all inserted or updated. */
  count: number;
  /** Rows deleted because their shape_id is no longer in the file. */
  removed: number;
  /** Names of districts that lie in no region (always empty for a region import). */
  unassigned: string[];
}

const LEVELS: Record<string, BoundaryLevel> = { ADM1: 'region', ADM2: 'district' };

// Serialises boundary imports: a district import reads the regions another import may be replacing.
const IMPORT_LOCK = 7_431_002;
// A district's region is voted by up to GRID x GRID points of a grid over its bbox (those inside the district).
const GRID = 10;

/** A geoBoundaries (https://www.geoboundaries.org) ADM1 or ADM2 FeatureCollection; throws on anything else. */
export function parseBoundaryFile(json: unknown): BoundaryFile {
  const root = json as { type?: unknown; features?: unknown } | null;
  if (typeof root !== 'object' || root === null || root.type !== 'FeatureCollection') {
    throw new Error('boundary file is not a GeoJSON FeatureCollection');
  }
  if (!Array.isArray(root.features) || root.features.length === 0) {
    throw new Error('boundary file has no features');
  }
  let level: BoundaryLevel | undefined;
  const seen = new Set<string>();
  const features = root.features.map((raw: unknown, i): BoundaryFeature => {
    const feature = raw as { type?: unknown; properties?: unknown; geometry?: unknown } | null;
    if (typeof feature !== 'object' || feature === null || feature.type !== 'Feature') {
      throw new Error(`feature ${i} is not a GeoJSON Feature`);
    }
    const props = (feature.properties ?? {}) as Record<string, unknown>;
    const { shapeID, shapeName, shapeISO, shapeType } = props;
    if (typeof shapeID !== 'string' || shapeID.trim() === '') throw new Error(`feature ${i} has no shapeID`);
    const where = `feature ${i} (${shapeID})`;
    if (typeof shapeName !== 'string' || shapeName.trim() === '')
      throw new Error(`${where} has no shapeName`);
    if (seen.has(shapeID)) throw new Error(`${where}: shapeID appears twice`);
    seen.add(shapeID);
    const featureLevel = typeof shapeType === 'string' ? LEVELS[shapeType] : undefined;
    if (!featureLevel)
      throw new Error(`${where}: shapeType ${JSON.stringify(shapeType)} is not ADM1 or ADM2`);
    if (level && level !== featureLevel)
      throw new Error(`${where}: mixes ${featureLevel}s into a file of ${level}s`);
    level = featureLevel;
    return {
      shapeId: shapeID,
      name: shapeName.trim(),
      iso: typeof shapeISO === 'string' && shapeISO.trim() !== '' ? shapeISO.trim() : null,
      geometry: toAreaGeometry(feature.geometry, where),
    };
  });
  return { level: level!, features };
}

/**
 * Replaces the regions or districts (whichever the file holds) with the file's features, in one transaction:
 * rows are matched by shape_id, so ids stay stable across re-imports. A district's region is the region that
 * contains it; import regions first. Callers rebuild their GeoIndex afterwards.
 */
export async function importBoundaries(pool: Pool, filePath: string): Promise<ImportResult> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(filePath, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read boundary file ${filePath}`, { cause: err });
  }
  let file: BoundaryFile;
  try {
    file = parseBoundaryFile(json);
  } catch (err) {
    throw new Error(`${filePath}: ${(err as Error).message}`, { cause: err });
  }
  return withTransaction(pool, async (trx) => {
    await trx.query('select pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
    // Delivered at commit: every API process refreshes its maps and reference cache (src/reference).
    await trx.query('select pg_notify($1, $2)', [REFERENCE_CHANNEL, file.level]);
    return file.level === 'region' ? importRegions(trx, file.features) : importDistricts(trx, file.features);
  });
}

async function importRegions(trx: PoolClient, features: BoundaryFeature[]): Promise<ImportResult> {
  const rows = features.map((f) => ({ shape_id: f.shapeId, name: f.name, iso: f.iso, geometry: f.geometry }));
  await trx.query(
    `insert into regions (shape_id, name, iso, geometry)
     select shape_id, name, iso, geometry
     from jsonb_to_recordset($1::jsonb) as f(shape_id text, name text, iso text, geometry jsonb)
     on conflict (shape_id) do update set
       name = excluded.name, iso = excluded.iso, geometry = excluded.geometry, imported_at = now()`,
    [JSON.stringify(rows)],
  );
  // districts.region_id is `on delete set null`: districts of a removed region lose their region here.
  const removed = await trx.query('delete from regions where shape_id <> all($1::text[])', [
    features.map((f) => f.shapeId),
  ]);
  return { level: 'region', count: features.length, removed: removed.rowCount ?? 0, unassigned: [] };
}

async function importDistricts(trx: PoolClient, features: BoundaryFeature[]): Promise<ImportResult> {
  const { rows: regions } = await trx.query<Omit<RegionArea, 'geometry'> & { geometry: unknown }>(
    'select id, name, iso, geometry from regions',
  );
  const index = GeoIndex.fromFeatures(
    regions.map((r) => ({ ...r, geometry: toAreaGeometry(r.geometry, `region ${r.id}`) })),
    [],
  );
  const unassigned: string[] = [];
  const rows = features.map((f) => {
    const regionId = regionOfDistrict(index, f.geometry);
    if (regionId === null) unassigned.push(f.name);
    return { shape_id: f.shapeId, name: f.name, region_id: regionId, geometry: f.geometry };
  });
  await trx.query(
    `insert into districts (shape_id, name, region_id, geometry)
     select shape_id, name, region_id, geometry
     from jsonb_to_recordset($1::jsonb) as f(shape_id text, name text, region_id int, geometry jsonb)
     on conflict (shape_id) do update set
       name = excluded.name, region_id = excluded.region_id, geometry = excluded.geometry, imported_at = now()`,
    [JSON.stringify(rows)],
  );
  const removed = await trx.query('delete from districts where shape_id <> all($1::text[])', [
    features.map((f) => f.shapeId),
  ]);
  return { level: 'district', count: features.length, removed: removed.rowCount ?? 0, unassigned };
}

/**
 * The region containing a district, by a vote of points spread over the district. Region and district borders
 * come from different sources and overlap by up to a few kilometres (Tashkent city's districts reach well into
 * Tashkent Region's polygon), so the bbox centre alone picks the wrong region for 6 of the 199 districts in data/
 * (Bulungur, Yazyavan, Kanimekh, …); points inside the district, weighted by area, pick the documented one.
 */
export function regionOfDistrict(index: GeoIndex, geometry: AreaGeometry): number | null {
  const [minX, minY, maxX, maxY] = bboxOf(geometry);
  const votes = new Map<number, number>();
  let sampled = 0;
  const vote = (lon: number, lat: number) => {
    const region = index.locate(lat, lon).region;
    if (region) votes.set(region.id, (votes.get(region.id) ?? 0) + 1);
  };
  for (let i = 0; i < GRID; i++) {
    for (let j = 0; j < GRID; j++) {
      const lon = minX + ((i + 0.5) / GRID) * (maxX - minX);
      const lat = minY + ((j + 0.5) / GRID) * (maxY - minY);
      if (!booleanPointInPolygon([lon, lat], geometry)) continue;
      sampled++;
      vote(lon, lat);
    }
  }
  if (sampled === 0) {
    // Too thin for the grid to hit: its outline votes instead.
    for (const polygon of polygonsOf(geometry)) {
      for (const [lon, lat] of polygon.coordinates[0]!) vote(lon!, lat!);
    }
  }
  let best: number | null = null;
  let bestVotes = 0;
  for (const [id, count] of votes) {
    if (count > bestVotes) [best, bestVotes] = [id, count];
  }
  return best;
}
