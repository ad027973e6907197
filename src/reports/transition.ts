import { enqueueJobs, type JobSpec } from '../pipeline/jobs.js';
import type { Queryable } from '../platform/db/pool.js';
import { eventColumns, eventHash, INSERT_EVENTS_SQL, type ReportEvent } from './events.js';
import type { ReportRow } from './reports.repository.js';
import type { ReportStatus } from './status.js';

/** Columns a transition may change besides status (fixed names; values are always parameters). */
const PATCHABLE = { reasonCode: 'reason_code', regionId: 'region_id', districtId: 'district_id' } as const;
export type ReportPatch = { [K in keyof typeof PATCHABLE]?: string | number | null };

export interface Transition {
  toStatus: ReportStatus;
  eventType: string;
  actor: string;
  data?: Record<string, unknown>;
  patch?: ReportPatch;
  /** Jobs to enqueue in the same transaction. */
  next?: JobSpec[];
}

/**
 * Moves a report from the state it was read in to the next, inside the caller's transaction: the report row
 * (guarded by its version, so a concurrent or repeated transition changes nothing), one hash-chained event and
 * the next jobs — all or none. Returns false when the report had already moved on.
 */
export async function applyTransition(trx: Queryable, report: ReportRow, t: Transition): Promise<boolean> {
  const at = new Date();
  const event: ReportEvent = {
    reportId: report.id,
    seq: report.version + 1,
    type: t.eventType,
    fromStatus: report.status,
    toStatus: t.toStatus,
    actor: t.actor,
    data: t.data ?? {},
    at,
  };
  const hash = eventHash(report.last_event_hash, event);
  const sets = ['status = $3', 'version = version + 1', 'last_event_hash = $4', 'updated_at = $5'];
  const values: unknown[] = [report.id, report.version, t.toStatus, hash, at];
  for (const [key, column] of Object.entries(PATCHABLE)) {
    const v = t.patch?.[key as keyof ReportPatch];
    if (v !== undefined) {
      values.push(v);
      sets.push(`${column} = $${values.length}`);
    }
  }
  const { rowCount } = await trx.query(
    `update reports set ${sets.join(', ')} where id = $1 and version = $2`,
    values,
  );
  if (rowCount !== 1) return false;
  await trx.query(INSERT_EVENTS_SQL, eventColumns([{ ...event, prevHash: report.last_event_hash, hash }]));
  await enqueueJobs(trx, t.next ?? []);
  return true;
}
