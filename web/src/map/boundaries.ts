import { api } from '../api/client';
import type { Boundaries } from '../api/types';
import { type Area, toAreas } from '../lib/geo';

export type Level = 'region' | 'district';

const cache = new Map<Level, Promise<Area[]>>();

/** Region or district outlines, fetched and projected once per page (the API lets the browser cache them an hour). */
export function loadAreas(level: Level): Promise<Area[]> {
  let p = cache.get(level);
  if (!p) {
    p = api<Boundaries>(`/v1/boundaries?level=${level}`).then(toAreas);
    // A failed load is not remembered: the next caller tries again.
    p.catch(() => cache.delete(level));
    cache.set(level, p);
  }
  return p;
}
