import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '../../platform/db/pool.js';
import { comeOnDuty, type StageWakeups } from '../duty.js';
import { enqueueJobs, type JobName, sweepJob } from '../jobs.js';
import { type OwnSession, offDuty, onSessionOfItsOwn } from './session.js';
import { drain, type ReportStage, recheckSoon, type StepCounters } from './step.js';

/**
 * After a wake-up, wait this long before claiming, so that arrivals close together share a claim: each claim is a
 * transaction of ~8 statements.
 */
const GATHER_MS = 10;
/** A sweep on duty that finds a full batch asks for help (another job, for another worker of the pool) this often. */
const HELP_EVERY_MS = 1000;

export interface LingerOptions {
  /** How long to stay on duty after the queue empties, ms. */
  idleMs: number;
  wakeups: StageWakeups;
  /** Ends the stay early (shutdown, a pool resized). */
  signal?: AbortSignal;
}

/**
 * A sweep that stays on duty (duty.ts) for `linger.idleMs` after its queue empties: it claims arrivals as they
 * come, woken by `linger.wakeups`, while hand-offs to the stage enqueue no jobs. When another sweep is on duty it
 * drains once as a helper instead. Its claims are a plain sweep's (step.ts), so it is as crash-safe.
 */
export async function lingerOnDuty(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  counters: StepCounters,
  linger: LingerOptions,
): Promise<number> {
  const done = await onSessionOfItsOwn(pool, linger.signal, async (session) => {
    if (await comeOnDuty(session.client, stageName)) {
      return stayOnDuty(pool, stageName, stage, batchSize, counters, linger, session);
    }
    // Another sweep is on duty (or a hand-off is committing): an ordinary sweep, as a helper.
    return drain(pool, stageName, stage, batchSize, counters, session.client);
  });
  await recheckSoon(pool, stageName, stage);
  return done;
}

/** On duty: drains, waits for arrivals, drains again — until idle for `linger.idleMs` — then goes off duty. */
async function stayOnDuty(
  pool: Pool,
  stageName: JobName,
  stage: ReportStage,
  batchSize: number,
  counters: StepCounters,
  linger: LingerOptions,
  { client, stopWaiting, check }: OwnSession,
): Promise<number> {
  const claim = () => drain(pool, stageName, stage, batchSize, counters, client);
  let n = 0;
  let lastWork = performance.now();
  let askedForHelp = 0;
  for (;;) {
    const claimed = await claim();
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
  return n + (await offDuty(client, stageName, claim));
}
