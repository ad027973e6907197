import { useEffect, useState } from 'react';
import { api } from '../api/client';
import type { Boundaries } from '../api/types';
import { type Area, toAreas } from '../lib/geo';

export type Level = 'region' | 'district';
/** `outline`: simplified to ~0.5 km, a fifth of the size, enough until the map is zoomed to a quarter of the country. */
export type Detail = 'outline' | 'full';

/** Below this fraction of the country's width a map swaps its outlines for the full detail. */
export const FULL_DETAIL_BELOW = 0.25;

export const boundariesUrl = (level: Level, detail: Detail) =>
  `/v1/boundaries?level=${level}${detail === 'full' ? '' : `&detail=${detail}`}`;

const cache = new Map<string, Promise<Area[]>>();

/** Region or district outlines, fetched and projected once per page (the API lets the browser cache them an hour). */
export function loadAreas(level: Level, detail: Detail = 'full'): Promise<Area[]> {
  const url = boundariesUrl(level, detail);
  let p = cache.get(url);
  if (!p) {
    p = api<Boundaries>(url).then(toAreas);
    // A failed load is not remembered: the next caller tries again.
    p.catch(() => cache.delete(url));
    cache.set(url, p);
  }
  return p;
}

interface Loaded {
  level: Level;
  areas: Area[] | null;
  detail: Detail | null;
  failed: unknown;
}

/**
 * A level's outlines for a map: the outline detail first (it draws in a fraction of the time), swapped for the full
 * detail once `full` is asked for (zoomed in, or an exact point-in-area test) and kept from then on. Nothing is
 * loaded while `enabled` is false. `failed` is the error when nothing could be loaded.
 */
export function useAreas(
  level: Level,
  {
    full = false,
    enabled = true,
    attempt = 0,
  }: {
    full?: boolean;
    enabled?: boolean;
    /** A new number tries again after a failure. */
    attempt?: number;
  } = {},
): Omit<Loaded, 'level'> {
  const [state, setState] = useState<Loaded>({ level, areas: null, detail: null, failed: null });
  // Once asked for, the full detail stays: zooming out again does not go back to the outline.
  const [wantFull, setWantFull] = useState(full);
  if (full && !wantFull) setWantFull(true);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` re-runs it after an error
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    const detail: Detail = wantFull ? 'full' : 'outline';
    loadAreas(level, detail).then(
      (areas) =>
        live &&
        setState((s) =>
          s.level === level && s.detail === 'full' ? s : { level, areas, detail, failed: null },
        ),
      (failed: unknown) =>
        live && setState((s) => (s.level === level && s.areas ? s : { ...s, level, failed })),
    );
    return () => {
      live = false;
    };
  }, [level, enabled, wantFull, attempt]);
  return state.level === level ? state : { areas: null, detail: null, failed: null };
}
