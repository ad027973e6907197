import type { AreaGeometry } from '../geo/geo-index.js';
import type { Queryable } from '../platform/db/pool.js';
import type { AreaLevel } from './reference.schema.js';
import type { BhmRate, ViolationTypeRow } from './reference-data.js';

export async function listViolationTypes(db: Queryable): Promise<ViolationTypeRow[]> {
  const { rows } = await db.query<ViolationTypeRow>(
    `select code, article, part, name_en, name_uz, name_ru, bhm_min, bhm_max, extra_sanction, camera_recordable, active
       from violation_types order by code`,
  );
  return rows;
}

/** Every BHM rate, the oldest first. */
export async function listBhmRates(db: Queryable): Promise<BhmRate[]> {
  const { rows } = await db.query<{ effective_from: string; amount_sum: number }>(
    `select to_char(effective_from, 'YYYY-MM-DD') as effective_from, amount_sum from bhm_rates order by effective_from`,
  );
  return rows.map((r) => ({ effectiveFrom: r.effective_from, amountSum: r.amount_sum }));
}

/** A region (with its ISO code) or a district (with its region). */
export interface AreaRow {
  id: number;
  name: string;
  iso: string | null;
  region_id: number | null;
}

const AREAS_SQL: Record<AreaLevel, string> = {
  region: 'select id, name, iso, null::int as region_id from regions order by id',
  district: 'select id, name, null as iso, region_id from districts order by id',
};
const OUTLINES_SQL: Record<AreaLevel, string> = {
  region: 'select id, name, iso, null::int as region_id, geometry from regions order by id',
  district: 'select id, name, null as iso, region_id, geometry from districts order by id',
};

export async function listAreas(db: Queryable, level: AreaLevel): Promise<AreaRow[]> {
  return (await db.query<AreaRow>(AREAS_SQL[level])).rows;
}

/** The areas with their outlines as imported (full precision). */
export async function listOutlines(
  db: Queryable,
  level: AreaLevel,
): Promise<(AreaRow & { geometry: AreaGeometry })[]> {
  return (await db.query<AreaRow & { geometry: AreaGeometry }>(OUTLINES_SQL[level])).rows;
}
