import type { Boundaries, Geometry, Position } from '../api/types.js';

/**
 * Map geometry without a map library: an equirectangular projection with longitudes shrunk by the cosine of
 * Uzbekistan's middle latitude (41.5°N), which keeps shapes within a few percent of true across the country's
 * 8 degrees of latitude. Screen y grows downward, so y = −latitude. Coordinates are scaled ×100 so that SVG path
 * numbers keep two decimals (~10 m, the precision the API sends).
 */
const K = Math.cos((41.5 * Math.PI) / 180);
const SCALE = 100;

/** A point on the ground, in degrees (WGS 84). */
export interface Place {
  lat: number;
  lon: number;
}

export interface Point {
  x: number;
  y: number;
}

export function project(lon: number, lat: number): Point {
  return { x: lon * K * SCALE, y: -lat * SCALE };
}

export function unproject(p: Point): { lon: number; lat: number } {
  return { lon: p.x / (K * SCALE), lat: -p.y / SCALE };
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Area {
  id: number;
  name: string;
  iso: string | null;
  regionId: number | null;
  /** The SVG path, projected once. */
  d: string;
  geometry: Geometry;
}

function polygons(g: Geometry): Position[][][] {
  return g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
}

function pathOf(g: Geometry): string {
  let d = '';
  for (const polygon of polygons(g)) {
    for (const ring of polygon) {
      ring.forEach(([lon, lat], i) => {
        const p = project(lon, lat);
        d += `${i === 0 ? 'M' : i === 1 ? 'L' : ' '}${p.x.toFixed(2)} ${p.y.toFixed(2)}`;
      });
      d += 'Z';
    }
  }
  return d;
}

export function toAreas(fc: Boundaries): Area[] {
  return fc.features.map((f) => ({
    id: f.id,
    name: f.properties.name,
    iso: f.properties.iso,
    regionId: f.properties.regionId,
    d: pathOf(f.geometry),
    geometry: f.geometry,
  }));
}

/** The projected bounding box of the areas. */
export function boundsOf(areas: Area[]): Box {
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (const a of areas) {
    for (const polygon of polygons(a.geometry)) {
      for (const [lon, lat] of polygon[0] ?? []) {
        const p = project(lon, lat);
        minX = Math.min(minX, p.x);
        maxX = Math.max(maxX, p.x);
        minY = Math.min(minY, p.y);
        maxY = Math.max(maxY, p.y);
      }
    }
  }
  return { x: minX, y: minY, w: maxX - minX, h: maxY - minY };
}

function inRing(lon: number, lat: number, ring: Position[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The area containing the point (ray casting: outer ring in, holes out), or null. */
export function areaAt(areas: Area[], lon: number, lat: number): Area | null {
  for (const a of areas) {
    for (const polygon of polygons(a.geometry)) {
      const [outer, ...holes] = polygon;
      if (outer && inRing(lon, lat, outer) && !holes.some((h) => inRing(lon, lat, h))) return a;
    }
  }
  return null;
}
