import type { Queryable } from '../platform/db/pool.js';
import { newId } from '../platform/ids.js';
import type { PictureAnalysis } from './analysis.js';
import type { MediaFacts } from './probe.js';
import type { EvidenceKind } from './sniff.js';

export interface EvidenceRow {
  id: string;
  kind: EvidenceKind;
  mime: string;
  bytes: number;
  readable: boolean;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  analyzed_at: Date | null;
  sharpness: number | null;
  brightness: number | null;
}

const COLUMNS =
  'id, kind, mime, bytes, readable, width, height, duration_ms, analyzed_at, sharpness, brightness';

export async function findEvidenceBySha(db: Queryable, sha256: Buffer): Promise<EvidenceRow | null> {
  const { rows } = await db.query<EvidenceRow>(`select ${COLUMNS} from evidence where sha256 = $1`, [sha256]);
  return rows[0] ?? null;
}

/**
 * Records stored bytes (one row per SHA-256, whoever uploaded them first) with their media facts — and, when the
 * picture was already analysed (a photo still in memory), the analysis and its thumbnail — and that this citizen
 * uploaded them (or, with no citizen, the case a driver uploaded them for), in one statement (one round trip and one commit; it was four). Returns the evidence row and
 * whether this call created it.
 */
export async function recordUpload(
  db: Queryable,
  u: {
    sha256: Buffer;
    kind: EvidenceKind;
    mime: string;
    bytes: number;
    citizenId: string | null;
    caseReportId?: string | null;
    originalName: string | null;
    facts: MediaFacts | null;
    analysis?: PictureAnalysis | { problem: string } | null;
  },
): Promise<EvidenceRow & { created: boolean }> {
  const f = u.facts;
  const a = u.analysis && !('problem' in u.analysis) ? u.analysis : null;
  const params = [
    newId(),
    u.sha256,
    u.kind,
    u.mime,
    u.bytes,
    f?.readable ?? null,
    f?.problem ?? (u.analysis && 'problem' in u.analysis ? u.analysis.problem : null),
    f?.width ?? null,
    f?.height ?? null,
    f?.durationMs ?? null,
    f?.codec ?? null,
    f?.takenAt ?? null,
    f?.gpsLat ?? null,
    f?.gpsLon ?? null,
    f?.camera ?? null,
    u.analysis ? true : null,
    a?.sharpness ?? null,
    a?.brightness ?? null,
    a?.phash ?? null,
    a?.thumbSha256 ?? null,
    a?.thumb ?? null,
    u.citizenId,
    u.originalName,
    u.caseReportId ?? null,
  ];
  // A row committed by a concurrent upload of the same bytes after this statement's snapshot is not seen by its
  // `found`: the second try, a new statement, sees it.
  for (let attempt = 0; attempt < 2; attempt++) {
    const { rows } = await db.query<EvidenceRow & { created: boolean }>(
      `with ins as (
         insert into evidence (id, sha256, kind, mime, bytes, readable, problem, width, height, duration_ms, codec,
                               taken_at, gps_lat, gps_lon, camera, analyzed_at, sharpness, brightness, phash,
                               thumb_sha256)
         values ($1, $2, $3, $4, $5, coalesce($6, true), $7, $8, $9, $10, $11, $12, $13, $14, $15,
                 case when $16::boolean then now() end, $17, $18, $19, $20)
         on conflict (sha256) do nothing returning ${COLUMNS}),
       thumb as (
         insert into thumbnails (sha256, jpeg) select $20, $21::bytea from ins where $20::text is not null
         on conflict (sha256) do nothing),
       found as (
         select ${COLUMNS}, true as created from ins
         union all
         select ${COLUMNS}, false from evidence where sha256 = $2 and not exists (select from ins)),
       upload as (
         insert into evidence_uploads (citizen_id, evidence_id, original_name)
         select $22::uuid, id, $23 from found where $22::uuid is not null
         on conflict do nothing),
       case_upload as (
         insert into case_uploads (report_id, evidence_id, original_name)
         select $24::uuid, id, $23 from found where $24::uuid is not null
         on conflict do nothing)
       select * from found`,
      params,
    );
    if (rows[0]) return rows[0];
  }
  throw new Error('evidence row neither inserted nor found');
}

/** A thumbnail kept in PostgreSQL (migration 0014) by its SHA-256, or null (older thumbnails are blob files). */
export async function thumbnailOf(db: Queryable, sha256Hex: string): Promise<Buffer | null> {
  const { rows } = await db.query<{ jpeg: Buffer }>('select jpeg from thumbnails where sha256 = $1', [
    sha256Hex,
  ]);
  return rows[0]?.jpeg ?? null;
}

export interface Quota {
  /** Bytes the citizen may still upload now. */
  left: number;
  /** When enough of the window has passed for the oldest upload in it to stop counting. */
  retryAfterSeconds: number;
}

/**
 * A citizen's evidence bytes of the last 24 hours — what they uploaded and what their open resumable uploads have
 * declared — against the daily limit (index evidence_uploads_citizen_time, migration 0018).
 */
export async function dailyQuota(
  db: Queryable,
  citizenId: string,
  limit: number,
  except: string | null = null,
): Promise<Quota> {
  const { rows } = await db.query<{ used: string; free_in: number | null }>(
    `with up as (
       select e.bytes, u.uploaded_at + interval '24 hours' as frees_at
         from evidence_uploads u join evidence e on e.id = u.evidence_id
        where u.citizen_id = $1 and u.uploaded_at > now() - interval '24 hours'
       union all
       select size, expires_at from upload_sessions
        where citizen_id = $1 and expires_at > now() and id is distinct from $2)
     select coalesce(sum(bytes), 0)::text as used, extract(epoch from min(frees_at) - now())::float8 as free_in
       from up`,
    [citizenId, except],
  );
  const used = Number(rows[0]?.used ?? 0);
  return { left: Math.max(0, limit - used), retryAfterSeconds: Math.max(1, rows[0]?.free_in ?? 60) };
}

/** What a driver uploaded for one case in the last 24 hours against `limit` (index case_uploads_report_time). */
export async function caseDailyQuota(db: Queryable, reportId: string, limit: number): Promise<Quota> {
  const { rows } = await db.query<{ used: string; free_in: number | null }>(
    `select coalesce(sum(e.bytes), 0)::text as used,
            extract(epoch from min(u.uploaded_at) + interval '24 hours' - now())::float8 as free_in
       from case_uploads u join evidence e on e.id = u.evidence_id
      where u.report_id = $1 and u.uploaded_at > now() - interval '24 hours'`,
    [reportId],
  );
  const used = Number(rows[0]?.used ?? 0);
  return { left: Math.max(0, limit - used), retryAfterSeconds: Math.max(1, rows[0]?.free_in ?? 60) };
}

/** A citizen's open (unexpired) resumable uploads. */
export async function openUploadCount(db: Queryable, citizenId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'select count(*)::int as n from upload_sessions where citizen_id = $1 and expires_at > now()',
    [citizenId],
  );
  return rows[0]?.n ?? 0;
}

/** A citizen's resumable upload still open (unexpired), or null. */
export async function findUploadSession(
  db: Queryable,
  id: string,
  citizenId: string,
): Promise<{ size: number; filename: string | null } | null> {
  const { rows } = await db.query<{ size: number; filename: string | null }>(
    'select size, filename from upload_sessions where id = $1 and citizen_id = $2 and expires_at > now()',
    [id, citizenId],
  );
  return rows[0] ?? null;
}

export async function openUploadSession(
  db: Queryable,
  s: { id: string; citizenId: string; size: number; filename: string | null; hours: number },
): Promise<void> {
  await db.query(
    `insert into upload_sessions (id, citizen_id, size, filename, expires_at)
     values ($1, $2, $3, $4, now() + make_interval(hours => $5))`,
    [s.id, s.citizenId, s.size, s.filename, s.hours],
  );
}

export async function closeUploadSession(db: Queryable, id: string): Promise<void> {
  await db.query('delete from upload_sessions where id = $1', [id]);
}

/** Removes the sessions that expired; returns their ids, so their partial files go too. */
export async function deleteExpiredUploadSessions(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    'delete from upload_sessions where expires_at < now() returning id',
  );
  return rows.map((r) => r.id);
}
