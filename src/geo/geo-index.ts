import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import Flatbush from 'flatbush';
import type { Queryable } from '../platform/db/pool.js';

// Just the GeoJSON we store and query (RFC 7946); positions are [lon, lat].
export type Position = [lon: number, lat: number];
export interface Polygon {
  type: 'Polygon';
  coordinates: Position[][];
}
export interface MultiPolygon {
  type: 'MultiPolygon';
  coordinates: Position[][][];
}
export type AreaGeometry = Polygon | MultiPolygon;

export interface RegionRef {
  id: number;
  name: string;
  iso: string | null;
}
export interface DistrictRef {
  id: number;
  name: string;
}
export interface Location {
  region: RegionRef | null;
  district: DistrictRef | null;
}

/**
 * Checks that value is a Polygon or MultiPolygon with closed rings of finite [lon, lat] positions.
 * `where` names the feature in the error message.
 */
export function toAreaGeometry(value: unknown, where: string): AreaGeometry {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: geometry is missing`);
  const { type, coordinates } = value as { type?: unknown; coordinates?: unknown };
  if (type === 'Polygon') {
    assertPolygonRings(coordinates, where);
    return { type, coordinates: coordinates as Position[][] };
  }
  if (type === 'MultiPolygon') {
    if (!Array.isArray(coordinates) || coordinates.length === 0) {
      throw new Error(`${where}: MultiPolygon has no polygons`);
    }
    coordinates.forEach((rings, i) => {
      assertPolygonRings(rings, `${where}, polygon ${i}`);
    });
    return { type, coordinates: coordinates as Position[][][] };
  }
  throw new Error(`${where}: geometry type ${JSON.stringify(type)} is not Polygon or MultiPolygon`);
}

function assertPolygonRings(rings: unknown, where: string): void {
  if (!Array.isArray(rings) || rings.length === 0) throw new Error(`${where}: polygon has no rings`);
  for (const [r, ring] of rings.entries()) {
    if (!Array.isArray(ring) || ring.length < 4)
      throw new Error(`${where}, ring ${r}: fewer than 4 positions`);
    for (const p of ring) {
      if (!isLonLat(p))
        throw new Error(`${where}, ring ${r}: ${JSON.stringify(p)} is not a [lon, lat] position`);
    }
    const first = ring[0] as Position;
    const last = ring[ring.length - 1] as Position;
    if (first[0] !== last[0] || first[1] !== last[1])
      throw new Error(`${where}, ring ${r}: ring is not closed`);
  }
}

function isLonLat(p: unknown): p is Position {
  if (!Array.isArray(p) || p.length < 2 || !p.every((n) => typeof n === 'number')) return false;
  const [lon, lat] = p as [number, number];
  return Math.abs(lon) <= 180 && Math.abs(lat) <= 90;
}

export function polygonsOf(geometry: AreaGeometry): Polygon[] {
  return geometry.type === 'Polygon'
    ? [geometry]
    : geometry.coordinates.map((coordinates) => ({ type: 'Polygon', coordinates }));
}

/** [minLon, minLat, maxLon, maxLat] of the outer rings (holes lie inside them). */
export function bboxOf(geometry: AreaGeometry): [number, number, number, number] {
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (const polygon of polygonsOf(geometry)) {
    for (const [x, y] of polygon.coordinates[0]!) {
      if (x! < minX) minX = x!;
      if (x! > maxX) maxX = x!;
      if (y! < minY) minY = y!;
      if (y! > maxY) maxY = y!;
    }
  }
  return [minX, minY, maxX, maxY];
}

interface Entry<T> {
  ref: T;
  polygon: Polygon;
  bbox: [number, number, number, number];
  /** Bbox area in square degrees; where areas overlap (a city inside its province) the smaller one wins. */
  area: number;
}

/** Areas of one level, with a packed R-tree over the bbox of every polygon (a MultiPolygon adds several). */
class AreaLayer<T> {
  private readonly entries: Entry<T>[] = [];
  private readonly tree: Flatbush | null = null;

  constructor(areas: { ref: T; geometry: AreaGeometry }[]) {
    for (const { ref, geometry } of areas) {
      for (const polygon of polygonsOf(geometry)) {
        const bbox = bboxOf(polygon);
        this.entries.push({ ref, polygon, bbox, area: (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]) });
      }
    }
    if (this.entries.length === 0) return;
    const tree = new Flatbush(this.entries.length);
    for (const { bbox } of this.entries) tree.add(...bbox);
    tree.finish();
    this.tree = tree;
  }

  find(lon: number, lat: number): T | null {
    if (!this.tree) return null;
    let best: Entry<T> | null = null;
    for (const i of this.tree.search(lon, lat, lon, lat)) {
      const entry = this.entries[i]!;
      if (best && best.area <= entry.area) continue;
      if (booleanPointInPolygon([lon, lat], entry.polygon)) best = entry;
    }
    return best?.ref ?? null;
  }
}

export interface RegionArea extends RegionRef {
  geometry: AreaGeometry;
}
export interface DistrictArea extends DistrictRef {
  geometry: AreaGeometry;
}

/**
 * Which region and district a point lies in. Built once (at start-up or after an import) and then read-only;
 * a lookup tests only the polygons whose bbox holds the point.
 */
export class GeoIndex {
  private readonly regions: AreaLayer<RegionRef>;
  private readonly districts: AreaLayer<DistrictRef>;

  private constructor(regions: RegionArea[], districts: DistrictArea[]) {
    this.regions = new AreaLayer(
      regions.map(({ id, name, iso, geometry }) => ({ ref: { id, name, iso }, geometry })),
    );
    this.districts = new AreaLayer(
      districts.map(({ id, name, geometry }) => ({ ref: { id, name }, geometry })),
    );
  }

  static fromFeatures(regions: RegionArea[], districts: DistrictArea[]): GeoIndex {
    return new GeoIndex(regions, districts);
  }

  static async load(db: Queryable): Promise<GeoIndex> {
    const regions = await db.query<{ id: number; name: string; iso: string | null; geometry: unknown }>(
      'select id, name, iso, geometry from regions order by id',
    );
    const districts = await db.query<{ id: number; name: string; geometry: unknown }>(
      'select id, name, geometry from districts order by id',
    );
    return new GeoIndex(
      regions.rows.map((r) => ({ ...r, geometry: toAreaGeometry(r.geometry, `region ${r.id}`) })),
      districts.rows.map((d) => ({ ...d, geometry: toAreaGeometry(d.geometry, `district ${d.id}`) })),
    );
  }

  /** The returned refs are shared between calls: treat them as read-only. */
  locate(lat: number, lon: number): Location {
    return { region: this.regions.find(lon, lat), district: this.districts.find(lon, lat) };
  }

  insideCountry(lat: number, lon: number): boolean {
    // The ADM1 and ADM2 files do not line up exactly (about 2 % of points inside a district fall in no region),
    // so a point inside either is inside the country.
    return this.regions.find(lon, lat) !== null || this.districts.find(lon, lat) !== null;
  }
}
