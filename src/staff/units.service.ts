import { audit } from '../audit/audit.js';
import { noteChanges, type Pool, type PoolClient, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { announceChanges } from '../reports/reports.cache.js';
import type { Actor } from './staff-admin.service.js';
import {
  districtsOfOtherUnits,
  districtsOfUnit,
  findUnit,
  insertUnit,
  lockUnit,
  renameUnit,
  replaceUnitDistricts,
  rerouteOpenReports,
  setUnitActive,
  type UnitRow,
  unknownDistricts,
} from './units.repository.js';
import type { Unit } from './units.schema.js';

export function toUnit(r: UnitRow): Unit {
  return { id: r.id, name: r.name, active: r.active, districts: r.districts, staffCount: r.staff_count };
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

async function coverDistricts(trx: PoolClient, unitId: number, ids: number[]): Promise<number[]> {
  const unknown = await unknownDistricts(trx, ids);
  if (unknown.length)
    throw new AppError('DISTRICT_NOT_FOUND', { field: 'districtIds', details: { districtIds: unknown } });
  const taken = await districtsOfOtherUnits(trx, unitId, ids);
  if (taken.length)
    throw new AppError('DISTRICT_TAKEN', {
      field: 'districtIds',
      details: { districts: taken.map((t) => ({ districtId: t.district_id, unitId: t.unit_id })) },
    });
  try {
    // A savepoint, so a race lost to another unit is this request's 409 and not an aborted transaction.
    await trx.query('savepoint cover_districts');
    const changed = await replaceUnitDistricts(trx, unitId, ids);
    await trx.query('release savepoint cover_districts');
    return changed;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    throw new AppError('DISTRICT_TAKEN', { field: 'districtIds', cause: err });
  }
}

/**
 * Open reports of these districts go to the unit that covers them now, in the caller's transaction; the cached
 * views of those reports drop at commit (in this process and, by NOTIFY, in every other).
 */
async function reroute(trx: PoolClient, districtIds: number[]): Promise<number> {
  const moved = await rerouteOpenReports(trx, districtIds);
  if (moved.length) {
    const changes = {
      reports: moved.map((r) => r.id),
      citizens: moved.map((r) => r.citizen_id),
      entered: {},
    };
    noteChanges(trx, changes);
    await announceChanges(trx, changes);
  }
  return moved.length;
}

export async function createUnit(
  pool: Pool,
  actor: Actor,
  input: { name: string; districtIds: number[] },
): Promise<Unit> {
  const name = input.name.trim();
  return withTransaction(pool, async (trx) => {
    const id = await insertUnit(trx, name);
    if (id === null) throw new AppError('UNIT_NAME_TAKEN', { field: 'name' });
    const changed = await coverDistricts(trx, id, input.districtIds);
    const rerouted = await reroute(trx, changed);
    await audit(trx, {
      ...actor,
      action: 'unit_created',
      targetKind: 'unit',
      targetId: String(id),
      detail: { name, districtIds: input.districtIds, reroutedReports: rerouted },
    });
    return toUnit((await findUnit(trx, id))!);
  });
}

/**
 * Renames a unit, changes the districts it covers or (de)activates it. Open reports of every district whose unit
 * changed — and of all its districts when it is (de)activated — follow at once: an inactive unit is routed nothing.
 */
export async function updateUnit(
  pool: Pool,
  actor: Actor,
  id: number,
  change: { name?: string; districtIds?: number[]; active?: boolean },
): Promise<Unit> {
  return withTransaction(pool, async (trx) => {
    const before = await lockUnit(trx, id);
    if (!before) throw new AppError('UNIT_NOT_FOUND');
    const detail: Record<string, unknown> = {};
    const name = change.name?.trim();
    if (name !== undefined && name !== before.name) {
      if (!(await renameUnit(trx, id, name))) throw new AppError('UNIT_NAME_TAKEN', { field: 'name' });
      Object.assign(detail, { name, previousName: before.name });
    }
    const changed = new Set<number>();
    if (change.districtIds) {
      for (const d of await coverDistricts(trx, id, change.districtIds)) changed.add(d);
      detail.districtIds = change.districtIds;
    }
    if (change.active !== undefined && change.active !== before.active) {
      await setUnitActive(trx, id, change.active);
      for (const d of await districtsOfUnit(trx, id)) changed.add(d);
      detail.active = change.active;
    }
    const rerouted = await reroute(trx, [...changed]);
    if (Object.keys(detail).length)
      await audit(trx, {
        ...actor,
        action: 'unit_updated',
        targetKind: 'unit',
        targetId: String(id),
        detail: { ...detail, reroutedReports: rerouted },
      });
    return toUnit((await findUnit(trx, id))!);
  });
}
