import type { BlobStore } from '../evidence/blob-store.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { FailureLog, type WarnLogger } from '../platform/metrics/failures.js';
import type { Metrics } from '../platform/metrics/metrics.js';
import { runPeriodically } from '../platform/periodic.js';
import { deletePurgedBlobs, purgeReportMedia } from './media-purge.js';

export interface RetentionConfig {
  RETENTION_OTP_DAYS: number;
  RETENTION_ADDRESS_DAYS: number;
  RETENTION_REJECTED_MEDIA_DAYS: number;
}

export interface RetentionResult {
  otpCodes: number;
  signInFailures: number;
  sessionAddresses: number;
  reportsPurged: number;
  evidencePurged: number;
  bytes: number;
}

/** Rows deleted or reports purged per statement or transaction: locks held briefly, blobs deleted after each commit. */
const BATCH = 500;
const DAY_MS = 86_400_000;

/**
 * Purges what docs/privacy.md says is kept only so long: one-time codes (with the address they were asked from)
 * after RETENTION_OTP_DAYS; failed sign-in counters and sessions' client addresses (IP, user agent) unused for
 * RETENTION_ADDRESS_DAYS; and the media of reports closed without a fine (rejected, duplicate, withdrawn)
 * RETENTION_REJECTED_MEDIA_DAYS after they closed — the report keeps its record and timeline. Expired uploads are
 * the hourly evidence clean-up's (src/evidence/cleanup.ts).
 */
export async function runRetention(
  deps: { pool: Pool; blobs: BlobStore; config: RetentionConfig },
  now = Date.now(),
): Promise<RetentionResult> {
  const { pool, config } = deps;
  const before = (days: number) => new Date(now - days * DAY_MS);
  const result: RetentionResult = {
    otpCodes: 0,
    signInFailures: 0,
    sessionAddresses: 0,
    reportsPurged: 0,
    evidencePurged: 0,
    bytes: 0,
  };
  const inBatches = async (sql: string, params: unknown[]) => {
    let total = 0;
    for (;;) {
      const { rowCount } = await pool.query(sql, [...params, BATCH]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < BATCH) return total;
    }
  };
  result.otpCodes = await inBatches(
    `delete from otp_codes where id in (select id from otp_codes where created_at < $1 limit $2)`,
    [before(config.RETENTION_OTP_DAYS)],
  );
  const addresses = before(config.RETENTION_ADDRESS_DAYS);
  result.signInFailures = await inBatches(
    `delete from sign_in_failures where login in (
       select login from sign_in_failures
        where last_failed_at < $1 and (locked_until is null or locked_until < $1) limit $2)`,
    [addresses],
  );
  result.sessionAddresses = await inBatches(
    `update auth_sessions set ip = null, user_agent = null where id in (
       select id from auth_sessions where (ip is not null or user_agent is not null) and last_used_at < $1 limit $2)`,
    [addresses],
  );
  const media = before(config.RETENTION_REJECTED_MEDIA_DAYS);
  for (;;) {
    const purged = await withTransaction(pool, async (trx) => {
      const { rows } = await trx.query<{ id: string }>(
        `select id from reports
          where status in ('rejected', 'duplicate', 'withdrawn') and media_purged_at is null and updated_at < $1
          order by updated_at limit $2 for update skip locked`,
        [media, BATCH],
      );
      return {
        reports: rows.length,
        blobs: await purgeReportMedia(
          trx,
          rows.map((r) => r.id),
        ),
      };
    });
    result.reportsPurged += purged.reports;
    result.evidencePurged += purged.blobs.length;
    result.bytes += await deletePurgedBlobs(deps, purged.blobs);
    if (purged.reports < BATCH) break;
  }
  return result;
}

const MARK = 'retention';
/** Each worker process looks this often whether the retention run is due; one of them takes it (sweep_marks). */
const LOOK_EVERY_MS = 3_600_000;
const FIRST_AFTER_MS = 5 * 60_000;

/**
 * Claims the run due every `everyHours` for this process: a conditional upsert of its sweep mark, so of the worker
 * processes looking at the same time one gets the row and the others find it taken.
 */
async function claimRun(pool: Pool, everyHours: number, now: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `insert into sweep_marks (name, upto) values ($1, $2) on conflict (name) do update set upto = excluded.upto
      where sweep_marks.upto <= $3`,
    [MARK, new Date(now), new Date(now - everyHours * 3_600_000)],
  );
  return (rowCount ?? 0) > 0;
}

/** The retention run in a worker process, at most once every RETENTION_EVERY_HOURS across all of them, counted. */
export function scheduleRetention(deps: {
  pool: Pool;
  blobs: BlobStore;
  config: RetentionConfig & { RETENTION_EVERY_HOURS: number };
  metrics: Pick<Metrics, 'retentionPurged' | 'samplerErrors'>;
  logger: WarnLogger & { info(fields: object, message: string): void };
}): { stop(): Promise<void> } {
  const failures = new FailureLog({
    logger: deps.logger,
    source: 'retention',
    count: () => deps.metrics.samplerErrors.inc({ part: 'retention' }),
  });
  return runPeriodically(
    () =>
      (async () => {
        if (!(await claimRun(deps.pool, deps.config.RETENTION_EVERY_HOURS, Date.now()))) return;
        const r = await runRetention(deps);
        const counted: [string, number][] = [
          ['otp_codes', r.otpCodes],
          ['sign_in_failures', r.signInFailures],
          ['session_addresses', r.sessionAddresses],
          ['report_media', r.reportsPurged],
          ['evidence_files', r.evidencePurged],
          ['evidence_bytes', r.bytes],
        ];
        for (const [kind, n] of counted) if (n) deps.metrics.retentionPurged.inc({ kind }, n);
        deps.logger.info({ ...r }, 'retention: purged what the policy keeps no longer');
      })(),
    { firstAfterMs: FIRST_AFTER_MS, everyMs: LOOK_EVERY_MS, onError: (err) => failures.report('run', err) },
  );
}
