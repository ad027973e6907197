import type { AreaGeometry, Position } from './geo-index.js';

/** Squared distance from p to the segment a–b, in the positions' own units (degrees here). */
function segmentDistance2(p: Position, a: Position, b: Position): number {
  const [px, py] = p as [number, number];
  const [ax, ay] = a as [number, number];
  const [bx, by] = b as [number, number];
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  const ex = px - (ax + t * dx);
  const ey = py - (ay + t * dy);
  return ex * ex + ey * ey;
}

/**
 * Douglas–Peucker on a closed ring: the positions that keep the outline within `tolerance` of the original
 * (an explicit stack, so a ring of thousands of positions does not recurse as deep). A ring that would fall
 * below a triangle is returned as it was, so no area vanishes from a map.
 */
export function simplifyRing(ring: Position[], tolerance: number): Position[] {
  const n = ring.length;
  if (n <= 4 || tolerance <= 0) return ring;
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  // A closed ring's first and last positions are the same point: split it at the position farthest from it.
  let far = 1;
  let farD = -1;
  for (let i = 1; i < n - 1; i++) {
    const [x, y] = ring[i] as [number, number];
    const [x0, y0] = ring[0] as [number, number];
    const d = (x - x0) ** 2 + (y - y0) ** 2;
    if (d > farD) {
      farD = d;
      far = i;
    }
  }
  keep[far] = 1;
  const tol2 = tolerance * tolerance;
  const stack: [number, number][] = [
    [0, far],
    [far, n - 1],
  ];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    let index = -1;
    let max = tol2;
    for (let i = a + 1; i < b; i++) {
      const d = segmentDistance2(ring[i]!, ring[a]!, ring[b]!);
      if (d > max) {
        max = d;
        index = i;
      }
    }
    if (index >= 0) {
      keep[index] = 1;
      stack.push([a, index], [index, b]);
    }
  }
  const out = ring.filter((_, i) => keep[i] === 1);
  return out.length >= 4 ? out : ring;
}

/** Every ring of a polygon or multipolygon simplified to `tolerance` (degrees). */
export function simplifyGeometry(g: AreaGeometry, tolerance: number): AreaGeometry {
  const rings = (polygon: Position[][]) => polygon.map((r) => simplifyRing(r, tolerance));
  return g.type === 'Polygon'
    ? { type: 'Polygon', coordinates: rings(g.coordinates) }
    : { type: 'MultiPolygon', coordinates: g.coordinates.map(rings) };
}
