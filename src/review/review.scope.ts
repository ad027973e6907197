import type { Principal } from '../auth/tokens.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { reportUnitOf, staffUnitOf } from '../staff/units.repository.js';

/**
 * Which reports a reviewer works on: `null` is every unit's; otherwise one unit's, and — for the unit's own
 * default view — the reports no unit covers too (a district nobody has taken is everybody's).
 */
export type UnitScope = { unitId: number; withUnrouted: boolean } | null;

/**
 * The unit a staff member works in, read on every request (one primary-key lookup), so moving someone to another
 * unit applies from their next request. Administrators work across units whatever their own.
 */
export async function reviewerUnit(db: Queryable, who: Principal): Promise<number | null> {
  if (who.role === 'admin') return null;
  return staffUnitOf(db, who.id);
}

/**
 * The scope of a queue, a claim or the workload. Inspectors and supervisors of a unit see their unit (and unrouted
 * reports); `?unit=` of their own narrows to exactly it, another unit's is 403 OUTSIDE_UNIT. Staff without a unit
 * (headquarters) and administrators see all, or exactly the unit they ask for.
 */
export async function queueScope(db: Queryable, who: Principal, requested?: number): Promise<UnitScope> {
  const own = await reviewerUnit(db, who);
  if (own === null) return requested === undefined ? null : { unitId: requested, withUnrouted: false };
  if (requested === undefined) return { unitId: own, withUnrouted: true };
  if (requested !== own) throw new AppError('OUTSIDE_UNIT', { field: 'unit' });
  return { unitId: own, withUnrouted: false };
}

/** Whether a report of `reportUnit` may be seen by a reviewer of `viewerUnit`: their own unit's, or unrouted. */
export function inUnit(viewerUnit: number | null, reportUnit: number | null): boolean {
  return viewerUnit === null || reportUnit === null || reportUnit === viewerUnit;
}

/**
 * Refuses (403 OUTSIDE_UNIT) a reviewer another unit's report; an unknown report passes, for the route's own 404.
 * Returns the report's unit.
 */
export async function assertReportInUnit(
  db: Queryable,
  who: Principal,
  reportId: string,
): Promise<number | null | undefined> {
  const [viewer, report] = await Promise.all([reviewerUnit(db, who), reportUnitOf(db, reportId)]);
  if (report !== undefined && !inUnit(viewer, report)) throw new AppError('OUTSIDE_UNIT');
  return report;
}

/** SQL for a scope over the reports table (alias optional), with its parameter appended to `params`. */
export function scopeSql(scope: UnitScope, params: unknown[], column = 'unit_id'): string {
  if (!scope) return '';
  params.push(scope.unitId);
  const p = `$${params.length}`;
  return scope.withUnrouted ? ` and (${column} = ${p} or ${column} is null)` : ` and ${column} = ${p}`;
}
