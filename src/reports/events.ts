import { createHash } from 'node:crypto';
import type { Queryable } from '../platform/db/pool.js';
import type { ReportStatus } from './status.js';

export interface ReportEvent {
  reportId: string;
  seq: number;
  type: string;
  fromStatus: ReportStatus | null;
  toStatus: ReportStatus | null;
  actor: string;
  data: Record<string, unknown>;
  at: Date;
}

/** Stable JSON: object keys sorted, so the same event always hashes the same. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** hash = sha256(prev_hash ‖ canonical(event)): editing or deleting any event breaks every later hash. */
export function eventHash(prev: Buffer | null, e: ReportEvent): Buffer {
  const h = createHash('sha256');
  if (prev) h.update(prev);
  const { reportId, seq, type, fromStatus, toStatus, actor, data, at } = e;
  h.update(canonical({ reportId, seq, type, fromStatus, toStatus, actor, data, at: at.toISOString() }));
  return h.digest();
}

export interface StoredEvent extends ReportEvent {
  prevHash: Buffer | null;
  hash: Buffer;
}

export async function listEvents(db: Queryable, reportId: string): Promise<StoredEvent[]> {
  const { rows } = await db.query<{
    seq: number;
    type: string;
    from_status: ReportStatus | null;
    to_status: ReportStatus | null;
    actor: string;
    data: Record<string, unknown>;
    at: Date;
    prev_hash: Buffer | null;
    hash: Buffer;
  }>(
    `select seq, type, from_status, to_status, actor, data, at, prev_hash, hash
       from report_events where report_id = $1 order by seq`,
    [reportId],
  );
  return rows.map((r) => ({
    reportId,
    seq: r.seq,
    type: r.type,
    fromStatus: r.from_status,
    toStatus: r.to_status,
    actor: r.actor,
    data: r.data,
    at: r.at,
    prevHash: r.prev_hash,
    hash: r.hash,
  }));
}

/** Recomputes the chain; returns the seq of the first event that does not verify, or null when all do. */
export function firstBrokenLink(events: StoredEvent[]): number | null {
  let prev: Buffer | null = null;
  for (const e of events) {
    const expected = eventHash(prev, e);
    if ((prev === null ? e.prevHash !== null : !e.prevHash?.equals(prev)) || !expected.equals(e.hash))
      return e.seq;
    prev = e.hash;
  }
  return null;
}

/** Column arrays for a multi-row `insert … select * from unnest(…)` of events. */
export function eventColumns(events: (ReportEvent & { prevHash: Buffer | null; hash: Buffer })[]) {
  return [
    events.map((e) => e.reportId),
    events.map((e) => e.seq),
    events.map((e) => e.type),
    events.map((e) => e.fromStatus),
    events.map((e) => e.toStatus),
    events.map((e) => e.actor),
    events.map((e) => JSON.stringify(e.data)),
    events.map((e) => e.at),
    events.map((e) => e.prevHash),
    events.map((e) => e.hash),
  ];
}

export const INSERT_EVENTS_SQL = `insert into report_events
  (report_id, seq, type, from_status, to_status, actor, data, at, prev_hash, hash)
  select * from unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
                       $8::timestamptz[], $9::bytea[], $10::bytea[])`;
