import type { Queryable } from '../platform/db/pool.js';

export interface UnitRow {
  id: number;
  name: string;
  active: boolean;
  districts: { id: number; name: string; regionName: string | null }[];
  staff_count: number;
}

const UNIT_SELECT = `
  select u.id, u.name, u.active,
         coalesce((select json_agg(json_build_object('id', d.id, 'name', d.name, 'regionName', g.name)
                                   order by g.name, d.name)
                     from unit_districts ud join districts d on d.id = ud.district_id
                     left join regions g on g.id = d.region_id
                    where ud.unit_id = u.id), '[]') as districts,
         (select count(*)::int from staff s where s.unit_id = u.id and s.active) as staff_count
    from units u`;

export async function listUnits(db: Queryable): Promise<UnitRow[]> {
  const { rows } = await db.query<UnitRow>(`${UNIT_SELECT} order by u.name`);
  return rows;
}

export async function findUnit(db: Queryable, id: number): Promise<UnitRow | null> {
  const { rows } = await db.query<UnitRow>(`${UNIT_SELECT} where u.id = $1`, [id]);
  return rows[0] ?? null;
}

export async function findUnitByName(db: Queryable, name: string): Promise<UnitRow | null> {
  const { rows } = await db.query<UnitRow>(`${UNIT_SELECT} where lower(u.name) = lower($1)`, [name]);
  return rows[0] ?? null;
}

export interface DistrictRow {
  id: number;
  name: string;
  region_name: string | null;
  unit_id: number | null;
}

export async function listDistricts(db: Queryable): Promise<DistrictRow[]> {
  const { rows } = await db.query<DistrictRow>(
    `select d.id, d.name, g.name as region_name, ud.unit_id
       from districts d left join regions g on g.id = d.region_id
       left join unit_districts ud on ud.district_id = d.id
      order by g.name nulls last, d.name`,
  );
  return rows;
}

/** Null when the name is taken (by any unit, case aside). */
export async function insertUnit(trx: Queryable, name: string): Promise<number | null> {
  const { rows } = await trx.query<{ id: number }>(
    `insert into units (name) select $1 where not exists (select 1 from units where lower(name) = lower($1))
     on conflict (name) do nothing returning id`,
    [name],
  );
  return rows[0]?.id ?? null;
}

/** Whether the unit exists (its row locked for the change). */
export async function lockUnit(
  trx: Queryable,
  id: number,
): Promise<{ name: string; active: boolean } | null> {
  const { rows } = await trx.query('select name, active from units where id = $1 for update', [id]);
  return rows[0] ?? null;
}

/** False when another unit has the name. */
export async function renameUnit(trx: Queryable, id: number, name: string): Promise<boolean> {
  const { rows } = await trx.query('select 1 from units where lower(name) = lower($1) and id <> $2', [
    name,
    id,
  ]);
  if (rows.length) return false;
  await trx.query('update units set name = $2, updated_at = now() where id = $1', [id, name]);
  return true;
}

export async function setUnitActive(trx: Queryable, id: number, active: boolean): Promise<void> {
  await trx.query('update units set active = $2, updated_at = now() where id = $1', [id, active]);
}

/** The ids among these that are not districts. */
export async function unknownDistricts(db: Queryable, ids: number[]): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `select i as id from unnest($1::int[]) i where not exists (select 1 from districts d where d.id = i)`,
    [ids],
  );
  return rows.map((r) => r.id);
}

/** The districts among these that another unit covers, with that unit, locked so they stay so. */
export async function districtsOfOtherUnits(
  trx: Queryable,
  unitId: number,
  ids: number[],
): Promise<{ district_id: number; unit_id: number }[]> {
  const { rows } = await trx.query(
    `select district_id, unit_id from unit_districts
      where district_id = any($1::int[]) and unit_id <> $2 order by district_id for update`,
    [ids, unitId],
  );
  return rows;
}

/** Makes the unit cover exactly these districts; returns every district whose unit changed (added or removed). */
export async function replaceUnitDistricts(trx: Queryable, unitId: number, ids: number[]): Promise<number[]> {
  const removed = await trx.query<{ district_id: number }>(
    `delete from unit_districts where unit_id = $1 and district_id <> all($2::int[]) returning district_id`,
    [unitId, ids],
  );
  const added = await trx.query<{ district_id: number }>(
    // No "on conflict": a district another unit took meanwhile fails the statement (23505), not silently.
    `insert into unit_districts (district_id, unit_id)
     select d, $1 from unnest($2::int[]) d
      where not exists (select 1 from unit_districts ud where ud.district_id = d and ud.unit_id = $1)
     returning district_id`,
    [unitId, ids],
  );
  return [...removed.rows, ...added.rows].map((r) => r.district_id);
}

export async function districtsOfUnit(db: Queryable, unitId: number): Promise<number[]> {
  const { rows } = await db.query<{ district_id: number }>(
    'select district_id from unit_districts where unit_id = $1',
    [unitId],
  );
  return rows.map((r) => r.district_id);
}

/**
 * Open reports (waiting for or in review) of these districts follow their district's unit now — an active unit
 * covering it, or none; returns the reports that moved, with their citizens (for the caches).
 */
export async function rerouteOpenReports(
  trx: Queryable,
  districtIds: number[],
): Promise<{ id: string; citizen_id: string }[]> {
  if (!districtIds.length) return [];
  const { rows } = await trx.query<{ id: string; citizen_id: string }>(
    `update reports r set unit_id = c.unit_id, updated_at = now()
       from (select d, (select ud.unit_id from unit_districts ud join units u on u.id = ud.unit_id
                         where ud.district_id = d and u.active) as unit_id
               from unnest($1::int[]) d) c
      where r.district_id = c.d and r.status in ('awaiting_review', 'in_review')
        and r.unit_id is distinct from c.unit_id
      returning r.id, r.citizen_id`,
    [districtIds],
  );
  return rows;
}

/** The active unit covering each of these districts (a report filed there is routed to it). */
export async function unitsOfDistricts(db: Queryable, districtIds: number[]): Promise<Map<number, number>> {
  if (!districtIds.length) return new Map();
  const { rows } = await db.query<{ district_id: number; unit_id: number }>(
    `select ud.district_id, ud.unit_id from unit_districts ud join units u on u.id = ud.unit_id
      where u.active and ud.district_id = any($1::int[])`,
    [[...new Set(districtIds)]],
  );
  return new Map(rows.map((r) => [r.district_id, r.unit_id]));
}

/** The unit a staff member belongs to (null: none, or no such active account). */
export async function staffUnitOf(db: Queryable, staffId: string): Promise<number | null> {
  const { rows } = await db.query<{ unit_id: number | null }>('select unit_id from staff where id = $1', [
    staffId,
  ]);
  return rows[0]?.unit_id ?? null;
}

/** A report's unit; undefined when there is no such report. */
export async function reportUnitOf(db: Queryable, reportId: string): Promise<number | null | undefined> {
  const { rows } = await db.query<{ unit_id: number | null }>('select unit_id from reports where id = $1', [
    reportId,
  ]);
  return rows.length ? rows[0]!.unit_id : undefined;
}
