import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../platform/db/pool.js';
import { REPORT_COLUMNS, type ReportRow } from '../../reports/reports.repository.js';
import type { ReportStatus } from '../../reports/status.js';

/**
 * Leases for work done outside any transaction (migration 0016): a claim takes the lease and commits at once, the
 * slow work (a registry call, media analysis) holds no row lock and no connection, and the outcome is recorded by a
 * second transaction that finds the row still leased to the claimer. Leases never bump a report's version, so the
 * recording transition stays guarded by the version the claim read.
 */
export interface Lease {
  /** One per claim: whoever holds it may record for the claimed reports. */
  owner: string;
  ms: number;
}

export function newLease(ms: number): Lease {
  return { owner: randomUUID(), ms };
}

/** A report nobody holds a live lease on: none was taken, or its holder died or overran and it lapsed. */
export const LEASE_FREE = '(stage_lease_expires_at is null or stage_lease_expires_at <= now())';

/** Takes `lease` on these reports (inside the claiming transaction, whose row locks keep others off meanwhile). */
export async function takeLeases(db: Queryable, ids: string[], lease: Lease): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `update reports set stage_lease_owner = $2, stage_lease_expires_at = now() + $3 * interval '1 millisecond'
      where id = any($1::uuid[])`,
    [ids, lease.owner, lease.ms],
  );
}

/**
 * The recording transaction's first statement: locks those of `ids` still in `status` and still leased to `owner`
 * — lapsed or not, as long as nobody else took it since — and clears their lease; returns them as they are now.
 * A report missing from the answer moved on or was claimed again by another sweep, which records for it instead.
 */
export async function takeBack(
  trx: Queryable,
  ids: string[],
  status: ReportStatus,
  owner: string,
): Promise<ReportRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await trx.query<ReportRow>(
    `update reports set stage_lease_owner = null, stage_lease_expires_at = null
      where id = any($1::uuid[]) and status = $2 and stage_lease_owner = $3
      returning ${REPORT_COLUMNS}`,
    [ids, status, owner],
  );
  return rows;
}

/** Gives leases back unrecorded (the work failed and will be tried again, by this sweep or the next). */
export async function releaseLeases(db: Queryable, ids: string[], owner: string): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `update reports set stage_lease_owner = null, stage_lease_expires_at = null
      where id = any($1::uuid[]) and stage_lease_owner = $2`,
    [ids, owner],
  );
}

/**
 * The live lease on a report in `status` that lapses first (index reports_stage_leases), or null: a sweep that
 * found only leased reports looks again then, so a report whose holder died is not left waiting for the next
 * arrival.
 */
export async function nextLapse(
  db: Queryable,
  status: ReportStatus,
): Promise<{ owner: string; at: Date } | null> {
  const { rows } = await db.query<{ owner: string; at: Date }>(
    `select stage_lease_owner as owner, stage_lease_expires_at as at from reports
      where status = $1 and stage_lease_owner is not null and stage_lease_expires_at > now()
      order by stage_lease_expires_at limit 1`,
    [status],
  );
  return rows[0] ?? null;
}

/** Claims up to `limit` unleased reports in `status` (inside the claiming transaction; parallel claims share). */
export async function claimUnleased(
  trx: Queryable,
  status: ReportStatus,
  limit: number,
): Promise<ReportRow[]> {
  const { rows } = await trx.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports where status = $1 and ${LEASE_FREE}
      order by id limit $2 for update skip locked`,
    [status, limit],
  );
  return rows;
}

/** The oldest unleased reports in `status`, without locking them (a failed batch taken one by one). */
export async function peekUnleased(db: Queryable, status: ReportStatus, limit: number): Promise<ReportRow[]> {
  const { rows } = await db.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports where status = $1 and ${LEASE_FREE} order by id limit $2`,
    [status, limit],
  );
  return rows;
}

/** Leases one report if it is still in `status` and unleased, in one statement (its own short transaction). */
export async function leaseOne(
  db: Queryable,
  id: string,
  status: ReportStatus,
  lease: Lease,
): Promise<ReportRow | null> {
  const { rows } = await db.query<ReportRow>(
    `update reports set stage_lease_owner = $3, stage_lease_expires_at = now() + $4 * interval '1 millisecond'
      where id = $1 and status = $2 and ${LEASE_FREE}
      returning ${REPORT_COLUMNS}`,
    [id, status, lease.owner, lease.ms],
  );
  return rows[0] ?? null;
}
