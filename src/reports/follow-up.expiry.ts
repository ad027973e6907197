import type { Pool } from '../platform/db/pool.js';
import { withTransaction } from '../platform/db/pool.js';
import { FailureLog, type WarnLogger } from '../platform/metrics/failures.js';
import type { Metrics } from '../platform/metrics/metrics.js';
import { runPeriodically } from '../platform/periodic.js';
import { REPORT_COLUMNS, type ReportRow } from './reports.repository.js';
import { applyTransitions } from './transition.js';

/** Reports closed per transaction: row locks held briefly; a longer backlog takes several. */
const BATCH = 200;

/**
 * Rejects (INFO_NOT_PROVIDED) the reports whose inspector's question has gone unanswered for `expireHours`, oldest
 * first (index reports_needs_info), the citizen told as of any rejection. One process at a time sweeps (a transaction
 * advisory lock: the others skip this round), and an answer being filed this instant holds its row, which is skipped
 * and looked at again next time. Returns how many were closed.
 */
export async function expireUnanswered(pool: Pool, expireHours: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - expireHours * 3_600_000);
  let closed = 0;
  for (;;) {
    const moved = await withTransaction(pool, async (trx) => {
      const { rows: lock } = await trx.query<{ ok: boolean }>(
        `select pg_try_advisory_xact_lock(hashtext('jarima:needs_info_expiry')) as ok`,
      );
      if (!lock[0]?.ok) return 0;
      const { rows } = await trx.query<ReportRow>(
        `select ${REPORT_COLUMNS} from reports
          where status = 'needs_info' and decided_at < $1
          order by decided_at limit $2 for update skip locked`,
        [cutoff, BATCH],
      );
      const done = await applyTransitions(
        trx,
        rows.map((report) => ({
          report,
          t: {
            toStatus: 'rejected',
            eventType: 'info_expired',
            actor: 'system',
            data: {
              reasonCode: 'INFO_NOT_PROVIDED',
              waitedHours: Math.floor((now.getTime() - report.decided_at!.getTime()) / 3_600_000),
            },
            patch: { reasonCode: 'INFO_NOT_PROVIDED' },
          },
        })),
      );
      return done.size;
    });
    closed += moved;
    if (moved < BATCH) return closed;
  }
}

/** How often each worker process looks (the first a minute after start): a report closes at most ten minutes late. */
const EXPIRY_EVERY_MS = 10 * 60_000;
const FIRST_AFTER_MS = 60_000;

/** The expiry on a timer in a worker process, its failures logged at most once a minute (the database away). */
export function scheduleNeedsInfoExpiry(deps: {
  pool: Pool;
  config: { NEEDS_INFO_EXPIRE_HOURS: number };
  metrics: Pick<Metrics, 'samplerErrors'>;
  logger: WarnLogger & { info(fields: object, message: string): void };
}): { stop(): Promise<void> } {
  const failures = new FailureLog({
    logger: deps.logger,
    source: 'needs-info expiry',
    count: () => deps.metrics.samplerErrors.inc({ part: 'needs_info_expiry' }),
  });
  return runPeriodically(
    () =>
      expireUnanswered(deps.pool, deps.config.NEEDS_INFO_EXPIRE_HOURS).then((closed) => {
        if (closed) deps.logger.info({ closed }, 'rejected reports whose question went unanswered');
      }),
    {
      firstAfterMs: FIRST_AFTER_MS,
      everyMs: EXPIRY_EVERY_MS,
      onError: (err) => failures.report('sweep', err),
    },
  );
}
