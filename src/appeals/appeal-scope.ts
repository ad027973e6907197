import type { Principal } from '../auth/tokens.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { inUnit, reviewerUnit } from '../review/review.scope.js';

/**
 * Refuses (403 OUTSIDE_UNIT) a supervisor another unit's appeal, as reviews do; an unknown appeal passes, for the
 * route's own 404. An appeal's unit is its report's, copied when it was filed.
 */
export async function assertAppealInUnit(db: Queryable, who: Principal, appealId: string): Promise<void> {
  const [viewer, { rows }] = await Promise.all([
    reviewerUnit(db, who),
    db.query<{ unit_id: number | null }>('select unit_id from appeals where id = $1', [appealId]),
  ]);
  if (rows[0] && !inUnit(viewer, rows[0].unit_id)) throw new AppError('OUTSIDE_UNIT');
}
