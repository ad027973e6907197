import type { Queryable } from '../platform/db/pool.js';
import { newId } from '../platform/ids.js';
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
 * Records stored bytes (one row per SHA-256, whoever uploaded them first) with their media facts, and that this
 * citizen uploaded them. Returns the evidence row and whether this call created it.
 */
export async function recordUpload(
  db: Queryable,
  u: {
    sha256: Buffer;
    kind: EvidenceKind;
    mime: string;
    bytes: number;
    citizenId: string;
    originalName: string | null;
    facts: MediaFacts | null;
  },
): Promise<EvidenceRow & { created: boolean }> {
  const f = u.facts;
  const inserted = await db.query<EvidenceRow>(
    `insert into evidence (id, sha256, kind, mime, bytes, readable, problem, width, height, duration_ms, codec, taken_at,
                           gps_lat, gps_lon, camera)
     values ($1, $2, $3, $4, $5, coalesce($6, true), $7, $8, $9, $10, $11, $12, $13, $14, $15)
     on conflict (sha256) do nothing returning ${COLUMNS}`,
    [
      newId(),
      u.sha256,
      u.kind,
      u.mime,
      u.bytes,
      f?.readable ?? null,
      f?.problem ?? null,
      f?.width ?? null,
      f?.height ?? null,
      f?.durationMs ?? null,
      f?.codec ?? null,
      f?.takenAt ?? null,
      f?.gpsLat ?? null,
      f?.gpsLon ?? null,
      f?.camera ?? null,
    ],
  );
  let row = inserted.rows[0];
  const created = row !== undefined;
  // A new statement, so a row committed by a concurrent upload of the same bytes is visible here.
  row ??= (await findEvidenceBySha(db, u.sha256))!;
  await db.query(
    `insert into evidence_uploads (citizen_id, evidence_id, original_name) values ($1, $2, $3)
     on conflict do nothing`,
    [u.citizenId, row.id, u.originalName],
  );
  return { ...row, created };
}

/** A thumbnail kept in PostgreSQL (migration 0014) by its SHA-256, or null (older thumbnails are blob files). */
export async function thumbnailOf(db: Queryable, sha256Hex: string): Promise<Buffer | null> {
  const { rows } = await db.query<{ jpeg: Buffer }>('select jpeg from thumbnails where sha256 = $1', [
    sha256Hex,
  ]);
  return rows[0]?.jpeg ?? null;
}
