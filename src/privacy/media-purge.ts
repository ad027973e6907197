import type { BlobStore } from '../evidence/blob-store.js';
import { deleteBlobs } from '../evidence/cleanup.js';
import type { Pool, Queryable } from '../platform/db/pool.js';

/** Rows of purged evidence whose blobs are still to be deleted (after the commit that purged them). */
export type PurgedBlobs = { sha: string; poster: string | null; thumb: string | null }[];

/**
 * Marks the media of these reports purged, inside the caller's transaction: each report's `media_purged_at`, and
 * each of their evidence rows that no other report still keeping its media shares — the row stays (the report's
 * record names it), unreadable, without the facts read from the file (place, time, camera, perceptual hash) or
 * its derived pictures. Returns the blobs to delete once this commits (`deletePurgedBlobs`), so no transaction
 * waits on the store; a crash in between leaves unreferenced blobs, never a readable row without its file.
 */
export async function purgeReportMedia(trx: Queryable, reportIds: string[]): Promise<PurgedBlobs> {
  if (reportIds.length === 0) return [];
  await trx.query('update reports set media_purged_at = now() where id = any($1::uuid[])', [reportIds]);
  const { rows } = await trx.query<{ sha: string; poster: string | null; thumb: string | null }>(
    `with doomed as (
       select e.id, encode(e.sha256, 'hex') as sha, e.poster_sha256 as poster, e.thumb_sha256 as thumb
         from evidence e
        where e.purged_at is null
          and e.id in (select evidence_id from report_evidence where report_id = any($1::uuid[]))
          and not exists (select from report_evidence re join reports r on r.id = re.report_id
                           where re.evidence_id = e.id and r.media_purged_at is null)
        for update of e)
     update evidence e set purged_at = now(), readable = false, problem = 'removed under the retention policy',
            poster_sha256 = null, thumb_sha256 = null, phash = null, taken_at = null, gps_lat = null,
            gps_lon = null, camera = null
       from doomed d where e.id = d.id
     returning d.sha, d.poster, d.thumb`,
    [reportIds],
  );
  await trx.query(
    `update evidence_uploads set original_name = null
      where evidence_id in (select evidence_id from report_evidence where report_id = any($1::uuid[]))
        and evidence_id in (select id from evidence where purged_at is not null)`,
    [reportIds],
  );
  return rows;
}

/** The blobs of `purgeReportMedia`, after its commit; returns the bytes freed. */
export async function deletePurgedBlobs(
  deps: { pool: Pool; blobs: BlobStore },
  rows: PurgedBlobs,
): Promise<number> {
  return rows.length ? deleteBlobs(deps, rows) : 0;
}
