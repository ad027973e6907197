import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool, PoolClient } from '../../platform/db/pool.js';
import { comeOnDuty, dutySlot, type StageWakeups } from '../duty.js';
import type { JobName } from '../jobs.js';
import { type OwnSession, offDuty, onSessionOfItsOwn } from './session.js';
import { anyWaiting, drain, type ReportStage, recheckSoon, type StepCounters } from './step.js';

/**
 * Batches with no wake-up look for waiting reports this often at least (one indexed statement; a NOTIFY from another
 * process can be lost). Not tied to a short hold: four stages looking every 4 × 50 ms would be 20 statements a second
 * of an idle installation.
 */
const LOOK_EVERY_MS = 2000;

export interface BatchOptions extends StepCounters {
  wakeups: StageWakeups;
  /** How long the first report of a batch waits for others to join it, ms. */
  holdMs: number;
  /** Ends the batches: the sweep goes off duty, as a lingering one does. */
  signal: AbortSignal;
  /** Most workers one batch may use: a claim that comes back full brings in another, up to this. */
  maxWorkers: number;
  /** Told how many workers the batch has whenever that changes (0 between batches). */
  onWorkers?: (n: number) => void;
}

/**
 * Runs a stage in batches, with no standing worker: on duty for the stage (so hand-offs enqueue no jobs), it waits
 * for an arrival, lets reports gather for `holdMs`, sweeps them in one go and waits again, until `signal` aborts —
 * then it goes off duty as a lingering sweep does. For a stage whose arrivals would leave a worker mostly idle (the
 * autoscaler decides): each report waits up to `holdMs` longer, and the stage holds workers only while a batch
 * runs. Returns what it handled, or null when another sweep is on duty (the caller tries again later). Crash-safe as
 * a sweep is: what it has not committed stays waiting in the stage's input state.
 */
export async function runInBatches(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  o: BatchOptions,
): Promise<number | null> {
  if (dutySlot(stageName) < 0) throw new Error(`${stageName} cannot run in batches`);
  const done = await onSessionOfItsOwn(pool, o.signal, async (session) =>
    (await comeOnDuty(session.client, stageName))
      ? batchesOnDuty(pool, stageName, stage, batchSize, o, session)
      : null,
  );
  if (done !== null) await recheckSoon(pool, stageName, stage);
  return done;
}

/** On duty: a batch at once, then one per wake-up (after the hold), until `o.signal` aborts; then off duty. */
async function batchesOnDuty(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  o: BatchOptions,
  { client, stopWaiting, check }: OwnSession,
): Promise<number> {
  const batch = () => oneBatch(pool, stageName, stage, batchSize, o, client);
  let n = 0;
  // Whatever waits when the batches begin is swept at once.
  let due = true;
  let mark = performance.now();
  for (;;) {
    if (due) {
      // Arrivals from here on (even during the batch) wake the next wait.
      mark = performance.now();
      n += await batch();
      check();
    }
    if (o.signal.aborted) break;
    const woken = await o.wakeups.wait(stageName, Math.max(4 * o.holdMs, LOOK_EVERY_MS), stopWaiting, mark);
    check();
    if (o.signal.aborted) break;
    if (woken) {
      await sleep(o.holdMs, undefined, { signal: stopWaiting }).catch(() => {});
      due = true;
    } else {
      // No wake-up for a while: look once (a NOTIFY from another process can be lost), one indexed statement.
      due = await anyWaiting(client, stage);
    }
  }
  return n + (await offDuty(client, stageName, batch));
}

/**
 * One batch: one worker on the duty session; each claim that comes back full (a backlog: a burst) brings in one
 * more on a pooled connection, up to maxWorkers, and each leaves when its claim comes back short — so the stage
 * holds workers only while there is work for them.
 */
async function oneBatch(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  o: BatchOptions,
  client: PoolClient,
): Promise<number> {
  let workers = 0;
  let handled = 0;
  let failure: unknown;
  const helpers: Promise<void>[] = [];
  const work = async (held?: PoolClient) => {
    o.onWorkers?.(++workers);
    try {
      // Not `handled += await …`: that reads `handled` before the await, and workers finish in any order.
      const n = await drain(pool, stageName, stage, batchSize, o, held, more);
      handled += n;
    } catch (err) {
      failure ??= err;
    } finally {
      o.onWorkers?.(--workers);
    }
  };
  const more = () => {
    if (workers < o.maxWorkers && failure === undefined) helpers.push(work());
  };
  await work(client);
  while (helpers.length) await Promise.all(helpers.splice(0));
  // A worker's failure is the batch's, once all have stopped: the caller begins again; what was not committed
  // still waits.
  if (failure !== undefined) throw failure;
  return handled;
}
