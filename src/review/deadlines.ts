import type { Config } from '../platform/config/config.js';
import type { Queryable } from '../platform/db/pool.js';
import { escalateDeadlines } from './deadlines.repository.js';

export type DeadlineConfig = Pick<Config, 'REVIEW_ESCALATE_HOURS'>;

/**
 * The queue's escalation (deadlines.repository.ts `escalateDeadlines`), run from the queue's read path at most once
 * per `everyMs` in this process: priority only matters when someone reads the queue, and one cheap UPDATE every
 * 30 s keeps near-deadline reports on top without a timer of its own. Concurrent readers share one run.
 */
export function deadlineEscalator(
  db: Queryable,
  config: DeadlineConfig,
  everyMs = 30_000,
): () => Promise<void> {
  let lastRun = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | null = null;
  return () => {
    if (running) return running;
    if (Date.now() - lastRun < everyMs) return Promise.resolve();
    lastRun = Date.now();
    running = escalateDeadlines(db, config.REVIEW_ESCALATE_HOURS)
      .then(() => undefined)
      .finally(() => {
        running = null;
      });
    return running;
  };
}
