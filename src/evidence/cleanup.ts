import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../platform/db/pool.js';
import { idFloor } from '../platform/ids.js';
import { FailureLog, type WarnLogger } from '../platform/metrics/failures.js';
import type { Metrics } from '../platform/metrics/metrics.js';
import { runPeriodically } from '../platform/periodic.js';
import type { BlobStore } from './blob-store.js';
import { deleteExpiredUploadSessions } from './evidence.repository.js';

const MARK = 'evidence_unfiled';
/** Evidence rows deleted per transaction: row locks held briefly, blobs deleted after each commit. */
const BATCH = 500;
/**
 * Each sweep looks again this far behind where the last one stopped: evidence uploaded again (a new
 * evidence_uploads row) was kept then, and is looked at again once that upload is old enough too.
 */
const OVERLAP_MS = 2 * 86_400_000;

export interface CleanupResult {
  evidence: number;
  bytes: number;
  uploadSessions: number;
}

/**
 * Deletes the evidence no report refers to, `unfiledHours` after its last upload (an upload session lasts a day, so
 * a file is kept for as long as the citizen could still attach it), with its poster frame and thumbnail when
 * nothing else shares them; and the expired resumable uploads with their partial files. Rows go first, in
 * batches (`for update skip locked`, so two workers split the work), then their blobs, after the commit: no
 * transaction waits on the store. A report filed on the evidence at that very moment makes the batch fail its
 * foreign key, and the next sweep tries again without it.
 *
 * One race is left: the same bytes uploaded again in the milliseconds between a row's deletion and its blob's can
 * lose their blob. Such a row (there again, its blob gone) is marked unreadable, so a report on it is rejected with
 * a reason instead of failing later.
 */
export async function cleanUpEvidence(deps: {
  pool: Pool;
  blobs: BlobStore;
  dataDir: string;
  unfiledHours: number;
  now?: number;
}): Promise<CleanupResult> {
  const { pool } = deps;
  const now = deps.now ?? Date.now();
  const cutoff = new Date(now - deps.unfiledHours * 3_600_000);
  const mark = await pool.query<{ upto: Date }>('select upto from sweep_marks where name = $1', [MARK]);
  const from = mark.rows[0] ? idFloor(mark.rows[0].upto.getTime() - OVERLAP_MS) : idFloor(0);
  const to = idFloor(cutoff.getTime());
  const result: CleanupResult = { evidence: 0, bytes: 0, uploadSessions: 0 };
  for (;;) {
    const { rows } = await pool.query<{ sha: string; poster: string | null; thumb: string | null }>(
      `with doomed as (
         select e.id from evidence e
          where e.id >= $1::uuid and e.id < $2::uuid
            and not exists (select from report_evidence re where re.evidence_id = e.id)
            and not exists (select from case_uploads cu where cu.evidence_id = e.id)
            and not exists (select from evidence_uploads u where u.evidence_id = e.id and u.uploaded_at > $3)
          order by e.id limit $4
          for update skip locked),
       uploads as (delete from evidence_uploads u using doomed d where u.evidence_id = d.id)
       delete from evidence e using doomed d where e.id = d.id
       returning encode(e.sha256, 'hex') as sha, e.poster_sha256 as poster, e.thumb_sha256 as thumb`,
      [from, to, cutoff, BATCH],
    );
    if (!rows.length) break;
    result.evidence += rows.length;
    result.bytes += await deleteBlobs(deps, rows);
    if (rows.length < BATCH) break;
  }
  await pool.query(
    `insert into sweep_marks (name, upto) values ($1, $2)
     on conflict (name) do update set upto = greatest(sweep_marks.upto, excluded.upto)`,
    [MARK, cutoff],
  );
  const expired = await deleteExpiredUploadSessions(pool);
  const partsDir = path.join(deps.dataDir, 'uploads');
  await Promise.all(expired.map((id) => rm(path.join(partsDir, `${id}.part`), { force: true })));
  result.uploadSessions = expired.length;
  return result;
}

/** The deleted (or purged) rows' blobs, and the derived ones (poster frames, thumbnails) no remaining evidence shares. */
export async function deleteBlobs(
  deps: { pool: Pool; blobs: BlobStore },
  rows: { sha: string; poster: string | null; thumb: string | null }[],
): Promise<number> {
  const originals = rows.map((r) => r.sha);
  const derived = [...new Set(rows.flatMap((r) => [r.poster, r.thumb]).filter((s): s is string => !!s))];
  const shared = await deps.pool.query<{ sha: string }>(
    `select poster_sha256 as sha from evidence where poster_sha256 = any($1::text[])
     union select thumb_sha256 from evidence where thumb_sha256 = any($1::text[])
     union select encode(sha256, 'hex') from evidence where encode(sha256, 'hex') = any($1::text[])`,
    [derived],
  );
  const keep = new Set(shared.rows.map((r) => r.sha));
  const unshared = derived.filter((s) => !keep.has(s));
  await deps.pool.query(
    `delete from thumbnails t where t.sha256 = any($1::text[])
       and not exists (select from evidence e where e.thumb_sha256 = t.sha256)`,
    [unshared],
  );
  let bytes = 0;
  for (const sha of [...originals, ...unshared]) bytes += await deps.blobs.delete(sha);
  // The race of the comment above: bytes uploaded again (a row again) while their blob was being deleted.
  const again = await deps.pool.query<{ sha: string }>(
    `select encode(sha256, 'hex') as sha from evidence
      where purged_at is null and sha256 = any(select decode(s, 'hex') from unnest($1::text[]) s)`,
    [originals],
  );
  for (const { sha } of again.rows) {
    if (await deps.blobs.has(sha)) continue;
    await deps.pool.query(
      `update evidence set readable = false,
              problem = 'the file was removed by the clean-up while it was uploaded again; upload it again'
        where sha256 = decode($1, 'hex')`,
      [sha],
    );
  }
  return bytes;
}

/** How often the clean-up runs in each worker process (the first a minute after start). */
const CLEANUP_EVERY_MS = 3_600_000;
const FIRST_AFTER_MS = 60_000;

/**
 * The clean-up on a timer in a worker process, counted (jarima_evidence_reclaimed_*) and its failures logged at most
 * once a minute (the database away). Two workers may run it at once: they split the rows between them.
 */
export function scheduleEvidenceCleanup(deps: {
  pool: Pool;
  blobs: BlobStore;
  config: { JARIMA_DATA_DIR: string; EVIDENCE_UNFILED_HOURS: number };
  metrics: Pick<Metrics, 'evidenceReclaimedBytes' | 'evidenceReclaimedFiles' | 'samplerErrors'>;
  logger: WarnLogger & { info(fields: object, message: string): void };
}): { stop(): Promise<void> } {
  const failures = new FailureLog({
    logger: deps.logger,
    source: 'evidence clean-up',
    count: () => deps.metrics.samplerErrors.inc({ part: 'evidence_cleanup' }),
  });
  return runPeriodically(
    () =>
      cleanUpEvidence({
        pool: deps.pool,
        blobs: deps.blobs,
        dataDir: deps.config.JARIMA_DATA_DIR,
        unfiledHours: deps.config.EVIDENCE_UNFILED_HOURS,
      }).then((r) => {
        deps.metrics.evidenceReclaimedBytes.inc(r.bytes);
        deps.metrics.evidenceReclaimedFiles.inc(r.evidence);
        if (r.evidence || r.uploadSessions)
          deps.logger.info({ ...r }, 'deleted evidence no report refers to, and expired uploads');
      }),
    {
      firstAfterMs: FIRST_AFTER_MS,
      everyMs: CLEANUP_EVERY_MS,
      onError: (err) => failures.report('sweep', err),
    },
  );
}
