import type { Queryable } from '../platform/db/pool.js';
import { newId } from '../platform/ids.js';
import type { EvidenceKind } from './sniff.js';

export interface EvidenceRow {
  id: string;
  kind: EvidenceKind;
  mime: string;
  bytes: number;
}

/**
 * Records stored bytes (one row per SHA-256, whoever uploaded them first) and that this citizen uploaded them.
 * Returns the evidence row and whether this call created it.
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
  },
): Promise<EvidenceRow & { created: boolean }> {
  const inserted = await db.query<EvidenceRow>(
    `insert into evidence (id, sha256, kind, mime, bytes) values ($1, $2, $3, $4, $5)
     on conflict (sha256) do nothing returning id, kind, mime, bytes`,
    [newId(), u.sha256, u.kind, u.mime, u.bytes],
  );
  let row = inserted.rows[0];
  const created = row !== undefined;
  // A new statement, so a row committed by a concurrent upload of the same bytes is visible here.
  row ??= (
    await db.query<EvidenceRow>('select id, kind, mime, bytes from evidence where sha256 = $1', [u.sha256])
  ).rows[0]!;
  await db.query(
    `insert into evidence_uploads (citizen_id, evidence_id, original_name) values ($1, $2, $3)
     on conflict do nothing`,
    [u.citizenId, row.id, u.originalName],
  );
  return { ...row, created };
}
