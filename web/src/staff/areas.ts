import type { Static } from '@sinclair/typebox';
import { useEffect, useState } from 'react';
import type { AreaLevel, AreaView } from '../../../src/reference/reference.schema.js';
import { areasUrl } from '../app/prefetch';
import { areaName } from '../i18n';
import type { Dict } from '../i18n/en';
import { staffApi } from './session';

/** A region or district by id, as the queue's filters and rows name it (GET /v1/areas). */
export type AreaName = Static<typeof AreaView>;
export type { AreaLevel };

/** Names of the regions and districts (GET /v1/areas, cached by the browser for an hour), read once per page. */
const cache = new Map<AreaLevel, Promise<Map<number, AreaName>>>();

export function loadAreaNames(level: AreaLevel): Promise<Map<number, AreaName>> {
  let p = cache.get(level);
  if (!p) {
    p = staffApi<{ items: AreaName[] }>(areasUrl(level)).then((r) => new Map(r.items.map((a) => [a.id, a])));
    p.catch(() => cache.delete(level));
    cache.set(level, p);
  }
  return p;
}

/** The names of one level, or null until loaded (or when `enabled` is false). */
export function useAreaNames(level: AreaLevel, enabled = true): Map<number, AreaName> | null {
  const [names, setNames] = useState<Map<number, AreaName> | null>(null);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    loadAreaNames(level).then(
      (n) => live && setNames(n),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [level, enabled]);
  return names;
}

/** "Tashkent city · Chilonzor", or what is known of it, or null. */
export function placeName(
  t: Dict,
  regions: Map<number, AreaName> | null,
  districts: Map<number, AreaName> | null,
  regionId: number | null,
  districtId: number | null,
): string | null {
  const r = regionId !== null ? regions?.get(regionId) : undefined;
  const d = districtId !== null ? districts?.get(districtId) : undefined;
  const parts = [r ? areaName(t, r) : null, d ? d.name : null].filter(Boolean);
  return parts.length ? parts.join(' · ') : null;
}
