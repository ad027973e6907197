import type { Queryable } from '../platform/db/pool.js';
import type { ReportStatus } from '../reports/status.js';
import type { JobName } from './jobs.js';

/** The report status each stage's sweep takes its work from. notify works on notifications instead. */
export const STAGE_INPUT = {
  validate: 'received',
  dedupe: 'validated',
  enrich: 'deduplicated',
  analyze: 'enriched',
  forward: 'approved',
  payout: 'paid',
} as const satisfies Partial<Record<JobName, ReportStatus>>;

/** The stage waiting for reports in this status, if one is. */
export function stageWaitingFor(status: string): JobName | null {
  for (const [stage, input] of Object.entries(STAGE_INPUT)) if (input === status) return stage as JobName;
  return null;
}

export interface QueueSample {
  depth: number;
  /** Seconds the longest-waiting item has been waiting (0 when none). */
  oldestAgeSeconds: number;
}

/**
 * Depth and oldest age of every stage's queue, across all processes, in one statement over the stages' own partial
 * indexes (each count and each "oldest" is an index scan of that stage's waiting rows, not of the reports table).
 * Age is time in the status (updated_at), for notifications time past their due moment.
 */
export async function sampleQueues(db: Queryable): Promise<Record<JobName, QueueSample>> {
  const { rows } = await db.query<{ stage: JobName; depth: number; oldest: number | null }>(
    `select 'validate' as stage, (select count(*) from reports where status = 'received')::int as depth,
            (select extract(epoch from now() - updated_at) from reports where status = 'received' order by id limit 1) as oldest
     union all
     select 'dedupe', (select count(*) from reports where status = 'validated')::int,
            (select extract(epoch from now() - updated_at) from reports where status = 'validated' order by id limit 1)
     union all
     select 'enrich', (select count(*) from reports where status = 'deduplicated')::int,
            (select extract(epoch from now() - updated_at) from reports where status = 'deduplicated' order by id limit 1)
     union all
     select 'analyze', (select count(*) from reports where status = 'enriched')::int,
            (select extract(epoch from now() - updated_at) from reports where status = 'enriched' order by id limit 1)
     union all
     select 'forward', (select count(*) from reports where status = 'approved')::int,
            (select extract(epoch from now() - updated_at) from reports where status = 'approved'
              order by forward_due_at, id limit 1)
     union all
     select 'payout', (select count(*) from reports where status = 'paid')::int,
            (select extract(epoch from now() - updated_at) from reports where status = 'paid' order by paid_at, id limit 1)
     union all
     select 'notify', (select count(*) from notifications where status = 'pending' and next_attempt_at <= now())::int,
            (select extract(epoch from now() - next_attempt_at) from notifications where status = 'pending'
              order by next_attempt_at, id limit 1)`,
  );
  return Object.fromEntries(
    rows.map((r) => [r.stage, { depth: r.depth, oldestAgeSeconds: Math.max(0, r.oldest ?? 0) }]),
  ) as Record<JobName, QueueSample>;
}

/**
 * Items that entered each stage's queue since this process started, counted from every process's commits (heard
 * through NOTIFY, see announceChanges) — the arrival rate the autoscaler works from, whichever process made them.
 */
export class StageArrivals {
  private readonly totals = new Map<JobName, number>();

  add(entered: Record<string, number>): void {
    for (const [status, n] of Object.entries(entered)) {
      const stage = stageWaitingFor(status);
      if (stage) this.totals.set(stage, (this.totals.get(stage) ?? 0) + n);
    }
  }

  total(stage: JobName): number {
    return this.totals.get(stage) ?? 0;
  }
}
