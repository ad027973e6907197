import { enqueueJobs, type JobSpec } from '../pipeline/jobs.js';
import type { Queryable } from '../platform/db/pool.js';
import { eventColumns, eventHash, INSERT_EVENTS_SQL, type ReportEvent } from './events.js';
import type { ReportRow } from './reports.repository.js';
import type { ReportStatus } from './status.js';

export interface ReportPatch {
  reasonCode?: string | null;
  regionId?: number | null;
  districtId?: number | null;
}

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
 * Moves reports from the state they were read in to the next, inside the caller's transaction, with a fixed
 * number of statements however many there are: the report rows (each guarded by the version it was read at, so a
 * concurrent or repeated transition changes nothing), one hash-chained event per report that moved, and the next
 * jobs — all or none. Returns the ids that moved; a report missing from it had already moved on.
 */
export async function applyTransitions(
  trx: Queryable,
  items: { report: ReportRow; t: Transition }[],
): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const at = new Date();
  const events = items.map(({ report, t }) => {
    const e: ReportEvent = {
      reportId: report.id,
      seq: report.version + 1,
      type: t.eventType,
      fromStatus: report.status,
      toStatus: t.toStatus,
      actor: t.actor,
      data: t.data ?? {},
      at,
    };
    return { ...e, prevHash: report.last_event_hash, hash: eventHash(report.last_event_hash, e) };
  });
  // A patch field left undefined keeps the column; null clears it. The `has_*` flags say which.
  const col = <K extends keyof ReportPatch>(k: K) => items.map(({ t }) => t.patch?.[k] ?? null);
  const has = (k: keyof ReportPatch) => items.map(({ t }) => t.patch?.[k] !== undefined);
  const { rows } = await trx.query<{ id: string }>(
    `update reports r set
        status = v.status, version = r.version + 1, last_event_hash = v.hash, updated_at = $11,
        reason_code = case when v.has_reason then v.reason_code else r.reason_code end,
        region_id = case when v.has_region then v.region_id else r.region_id end,
        district_id = case when v.has_district then v.district_id else r.district_id end
       from unnest($1::uuid[], $2::int[], $3::text[], $4::bytea[], $5::text[], $6::bool[], $7::int[], $8::bool[],
                   $9::int[], $10::bool[])
            as v(id, version, status, hash, reason_code, has_reason, region_id, has_region, district_id, has_district)
      where r.id = v.id and r.version = v.version
      returning r.id`,
    [
      items.map(({ report }) => report.id),
      items.map(({ report }) => report.version),
      items.map(({ t }) => t.toStatus),
      events.map((e) => e.hash),
      col('reasonCode'),
      has('reasonCode'),
      col('regionId'),
      has('regionId'),
      col('districtId'),
      has('districtId'),
      at,
    ],
  );
  const moved = new Set(rows.map((r) => r.id));
  const movedEvents = events.filter((e) => moved.has(e.reportId));
  if (movedEvents.length) await trx.query(INSERT_EVENTS_SQL, eventColumns(movedEvents));
  await enqueueJobs(
    trx,
    items.filter(({ report }) => moved.has(report.id)).flatMap(({ t }) => t.next ?? []),
  );
  return moved;
}
