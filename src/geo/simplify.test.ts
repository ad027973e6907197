import { describe, expect, it } from 'vitest';
import type { Position } from './geo-index.js';
import { simplifyGeometry, simplifyRing } from './simplify.js';

/** A closed ring around a circle of radius 1, `n` positions. */
const circle = (n: number): Position[] => {
  const ring = Array.from(
    { length: n },
    (_, i): Position => [Math.cos((2 * Math.PI * i) / n), Math.sin((2 * Math.PI * i) / n)],
  );
  return [...ring, ring[0]!];
};

describe('simplifyRing', () => {
  it('drops positions on a straight edge and keeps the corners', () => {
    const square: Position[] = [
      [0, 0],
      [0.5, 0],
      [1, 0],
      [1, 0.5],
      [1, 1],
      [0.5, 1],
      [0, 1],
      [0, 0.5],
      [0, 0],
    ];
    expect(simplifyRing(square, 0.01)).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
      [0, 0],
    ]);
  });

  it('stays within the tolerance of the original and keeps the ring closed', () => {
    const ring = circle(1000);
    for (const tolerance of [0.001, 0.01, 0.1]) {
      const out = simplifyRing(ring, tolerance);
      expect(out[0]).toEqual(out.at(-1));
      expect(out.length).toBeLessThan(ring.length);
      // Every dropped position is within `tolerance` of the simplified outline (a circle's chord sagitta).
      const sides = out.length - 1;
      expect(1 - Math.cos(Math.PI / sides)).toBeLessThanOrEqual(tolerance * 1.0001);
    }
    expect(simplifyRing(ring, 0.1).length).toBeLessThan(simplifyRing(ring, 0.001).length);
  });

  it('never makes a ring smaller than a triangle: a tiny island keeps its shape', () => {
    const island = circle(12).map(([x, y]): Position => [x * 1e-4, y * 1e-4]);
    expect(simplifyRing(island, 0.01)).toBe(island);
  });

  it('simplifies every ring of a multipolygon', () => {
    const g = simplifyGeometry({ type: 'MultiPolygon', coordinates: [[circle(200)], [circle(100)]] }, 0.01);
    expect(g.type).toBe('MultiPolygon');
    const counts = (g.coordinates as Position[][][]).map((p) => p[0]!.length);
    expect(counts.every((c) => c < 100)).toBe(true);
  });
});
