import { setTimeout as sleep } from 'node:timers/promises';
import { type Pool, type PoolClient, type Queryable, withTransaction } from '../platform/db/pool.js';
import { isDatabaseUnavailable } from '../platform/db/unavailable.js';
import { claimReports, lockReport, peekReports, type ReportRow } from '../reports/reports.repository.js';
import type { ReportStatus } from '../reports/status.js';
import { applyTransitions, type Transition } from '../reports/transition.js';
import { comeOnDuty, dutySlot, goOffDuty, holdHandoffs, type StageWakeups } from './duty.js';
import { enqueueJobs, type JobName, sweepJob } from './jobs.js';

export type Decision = Omit<Transition, 'actor'>;

export interface ReportStage {
  /** States this stage acts on; a report found in any other state was already handled (a re-run is a no-op). */
  from: readonly ReportStatus[];
  /**
   * Decides the outcome for each report, in order, reading what it needs in bulk through `db` (the claiming
   * transaction, so it must be quick).
   */
  decide(reports: ReportRow[], db: Queryable): Promise<Decision[]>;
  /**
   * Optional slow, idempotent preparation (media analysis) of claimed reports. It writes through the pool, not the
   * claiming transaction, so its results survive even if the claim is rolled back.
   */
  prepare?(reports: ReportRow[], db: Queryable): Promise<void>;
}

export interface SweepOptions {
  /** Told how many reports the stage set aside as failed. */
  onSetAside?: (n: number) => void;
  /** Told each batch's size and how long it took to claim, decide and commit (the stage's service time). */
  onBatch?: (n: number, ms: number) => void;
  /**
   * Stay on duty this long after the queue empties (see duty.ts): claim arrivals as they come, woken by `wakeups`,
   * while hand-offs to this stage enqueue no jobs. Ends early when `signal` aborts (shutdown, a pool resized).
   */
  linger?: { idleMs: number; wakeups: StageWakeups; signal?: AbortSignal };
}

/**
 * After a wake-up, wait this long before claiming, so that arrivals close together share a claim: each claim is a
 * transaction of ~8 statements.
 */
const GATHER_MS = 10;
/**
 * Batches with no wake-up look for waiting reports this often at least (one indexed statement; a NOTIFY from another
 * process can be lost). Not tied to a short hold: four stages looking every 4 × 50 ms would be 20 statements a second
 * of an idle installation.
 */
const LOOK_EVERY_MS = 2000;
/** A sweep on duty that finds a full batch asks for help (another job, for another worker of the pool) this often. */
const HELP_EVERY_MS = 1000;

/**
 * Sweeps a stage: claims up to `batchSize` reports waiting in its first input state (FOR UPDATE SKIP LOCKED, so
 * parallel sweeps share the work), decides and applies them together in one transaction with a fixed number of
 * statements, and repeats until none is left — then, with `linger`, stays on duty for more (duty.ts). A sweep
 * killed midway loses nothing: its claimed rows go back to waiting when its transaction dies, and its job runs again.
 */
export async function runBatchStage(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  opts: SweepOptions = {},
): Promise<number> {
  const linger = opts.linger && opts.linger.idleMs > 0 && dutySlot(stageName) >= 0 ? opts.linger : null;
  let done = 0;
  if (!linger) done = await drain(pool, stageName, stage, batchSize, opts);
  else {
    done = await onSessionOfItsOwn(pool, linger.signal, async ({ client, stopWaiting, check }) => {
      if (!(await comeOnDuty(client, stageName))) {
        // Another sweep is on duty (or a hand-off is committing): an ordinary sweep, as a helper.
        return drain(pool, stageName, stage, batchSize, opts, client);
      }
      let n = 0;
      let lastWork = performance.now();
      let askedForHelp = 0;
      for (;;) {
        const claimed = await drain(pool, stageName, stage, batchSize, opts, client);
        check();
        n += claimed;
        const now = performance.now();
        if (claimed > 0) lastWork = now;
        if (claimed >= batchSize && now - askedForHelp > HELP_EVERY_MS) {
          askedForHelp = now;
          await enqueueJobs(pool, [sweepJob(stageName)]);
        }
        const idle = linger.idleMs - (now - lastWork);
        if (linger.signal?.aborted || idle <= 0) break;
        // No looking on a timer: an empty claim is a transaction, and at 20 reports/s four stages looking every
        // 25 ms doubled the installation's CPU per report (bench/README.md, "autoscale"). A wake-up that never
        // comes (a lost NOTIFY) costs at most the idle time: the last claim going off duty takes what is there.
        const woken = await linger.wakeups.wait(stageName, idle, stopWaiting);
        check();
        // Woken by an arrival: let the next few join it, so one claim takes several.
        if (woken) await sleep(GATHER_MS);
      }
      return (
        n + (await offDuty(client, stageName, () => drain(pool, stageName, stage, batchSize, opts, client)))
      );
    });
  }
  await recheckSoon(pool, stageName, stage);
  return done;
}

export interface BatchOptions extends Omit<SweepOptions, 'linger'> {
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
  // A batch is one worker on the duty session; each claim that comes back full (a backlog: a burst) brings in one
  // more on a pooled connection, up to maxWorkers, and each leaves when its claim comes back short — so the stage
  // holds workers only while there is work for them.
  const batch = async (client: PoolClient) => {
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
  };
  const done = await onSessionOfItsOwn(pool, o.signal, async ({ client, stopWaiting, check }) => {
    if (!(await comeOnDuty(client, stageName))) return null;
    let n = 0;
    // Whatever waits when the batches begin is swept at once.
    let due = true;
    let mark = performance.now();
    for (;;) {
      if (due) {
        // Arrivals from here on (even during the batch) wake the next wait.
        mark = performance.now();
        n += await batch(client);
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
    return n + (await offDuty(client, stageName, () => batch(client)));
  });
  if (done !== null) await recheckSoon(pool, stageName, stage);
  return done;
}

/**
 * Runs `fn` on a pooled session held for its whole run (duty locks live on a session). The session can end under it
 * (a database restart, a terminated backend): its transactions then fail like a poison report would, so `check`
 * throws once that happened, and the session is ended rather than returned — its locks go with it.
 */
async function onSessionOfItsOwn<T>(
  pool: Pool,
  signal: AbortSignal | undefined,
  fn: (s: { client: PoolClient; stopWaiting: AbortSignal; check: () => void }) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  let lost: unknown;
  const sessionLost = new AbortController();
  const onLost = (err: unknown) => {
    lost ??= err;
    sessionLost.abort();
  };
  const stopWaiting = signal ? AbortSignal.any([signal, sessionLost.signal]) : sessionLost.signal;
  client.on('error', onLost);
  try {
    return await fn({
      client,
      stopWaiting,
      check: () => {
        if (lost) throw lost;
      },
    });
  } catch (err) {
    broken = err;
    throw err;
  } finally {
    client.off('error', onLost);
    client.release(broken !== undefined);
  }
}

/** Going off duty: waits for the hand-offs that counted on this sweep to commit, takes what they left, lets go. */
async function offDuty(
  client: PoolClient,
  stageName: JobName,
  lastClaim: () => Promise<number>,
): Promise<number> {
  await holdHandoffs(client, stageName);
  const n = await lastClaim();
  await goOffDuty(client, stageName);
  return n;
}

/** Whether any report waits in the stage's input state (one indexed statement). */
async function anyWaiting(db: Queryable, stage: ReportStage): Promise<boolean> {
  const { rows } = await db.query<{ waiting: boolean }>(
    'select exists (select 1 from reports where status = $1) as waiting',
    [stage.from[0]!],
  );
  return rows[0]?.waiting ?? false;
}

/**
 * SKIP LOCKED passes over rows another transaction holds at that instant (a parallel sweep, or a transition that is
 * about to lose its version race). If any are still waiting, look again shortly, so none is left behind; the key
 * keeps it to one pending re-check per stage.
 */
async function recheckSoon(pool: Pool, stageName: JobName, stage: ReportStage): Promise<void> {
  if (await anyWaiting(pool, stage)) {
    await enqueueJobs(pool, [
      { ...sweepJob(stageName), jobKey: `${stageName}:recheck`, runAt: new Date(Date.now() + 1000) },
    ]);
  }
}

/** Claims and applies batches until a claim comes back short; on `held`, the transactions run on that client. */
async function drain(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  opts: SweepOptions,
  held?: PoolClient,
  /** Told after each full claim: more may be waiting. */
  onFull?: () => void,
): Promise<number> {
  let done = 0;
  const from = stage.from[0]!;
  for (;;) {
    let claimed: number;
    const started = performance.now();
    try {
      claimed = await withTransaction(
        pool,
        async (trx) => {
          const reports = await claimReports(trx, from, batchSize);
          // Slow preparation runs on the claimed rows (so parallel sweeps never duplicate it) through other
          // connections, while this transaction only holds the row locks.
          await stage.prepare?.(reports, pool);
          await decideAndApply(trx, stageName, stage, reports);
          return reports.length;
        },
        held,
      );
    } catch (err) {
      // The database itself is away: retryable, so the job fails and graphile-worker retries it with backoff.
      if (isDatabaseUnavailable(err)) throw err;
      // Otherwise one report may be poison: go one by one, and set aside only those that fail on their own.
      claimed = await oneByOne(
        pool,
        stageName,
        stage,
        await peekReports(pool, from, batchSize),
        opts.onSetAside,
      );
    }
    if (claimed > 0) opts.onBatch?.(claimed, performance.now() - started);
    done += claimed;
    if (claimed < batchSize) return done;
    onFull?.();
  }
}

async function decideAndApply(trx: Queryable, stageName: string, stage: ReportStage, reports: ReportRow[]) {
  const decisions = await stage.decide(reports, trx);
  await applyTransitions(
    trx,
    reports.map((report, i) => ({ report, t: { ...decisions[i]!, actor: `system:${stageName}` } })),
  );
}

/**
 * A report the stage cannot handle (a permanent error) moves to `failed` with the stage and the error in its
 * event, out of the stage's way; operators see it in the dead-letter list and can send it back.
 */
async function oneByOne(
  pool: Pool,
  stageName: string,
  stage: ReportStage,
  reports: ReportRow[],
  onSetAside?: (n: number) => void,
): Promise<number> {
  for (const report of reports) {
    try {
      await withTransaction(pool, async (trx) => {
        const [locked] = await lockReport(trx, report.id, report.status);
        if (!locked) return;
        await stage.prepare?.([locked], pool);
        await decideAndApply(trx, stageName, stage, [locked]);
      });
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      const moved = await withTransaction(pool, (trx) =>
        applyTransitions(trx, [
          {
            report,
            t: {
              toStatus: 'failed',
              eventType: 'stage_failed',
              actor: `system:${stageName}`,
              data: { stage: stageName, from: report.status, error: message },
              patch: { reasonCode: 'PIPELINE_ERROR' },
            },
          },
        ]),
      );
      if (moved.size) onSetAside?.(moved.size);
    }
  }
  return reports.length;
}
