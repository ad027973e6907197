import { beforeAll, describe, expect, it } from 'vitest';
import {
  citizenWithEvidence,
  createTestApp,
  reportBody,
  submitReport,
  type TestApp,
  until,
} from '../../test/helpers/app.js';
import { findReport } from '../reports/reports.repository.js';
import { dutySlot, handoffNeedsJob } from './duty.js';
import { runBatchStage, runInBatches } from './runner.js';
import { validateStage } from './stages/validate/validate.js';

/**
 * A sweep on duty (duty.ts) against a real PostgreSQL, with no worker pools running, so the only sweeps are the
 * test's own: arrivals are claimed without a job each; a hand-off still committing keeps the sweep from going off
 * duty until it commits, and its report is claimed; the locks go with a sweep's session if it dies.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, { workers: false });
});

const validate = () =>
  validateStage({ reference: t.deps.reference, boundaries: t.deps.boundaries, config: t.deps.config });

const validateJobs = async () =>
  (
    await t.deps.pool.query<{ n: number }>(
      `select count(*)::int as n from graphile_worker.jobs where task_identifier = 'validate'`,
    )
  ).rows[0]!.n;

/**
 * Sessions holding the validate stage's duty lock (advisory key space 4870733, key 2·slot) in this test's database:
 * pg_locks lists every database's, and test files run in parallel on one server, another file's batches holding the
 * same keys in its own database.
 */
const onDuty = async () =>
  (
    await t.deps.pool.query<{ n: number }>(
      `select count(*)::int as n from pg_locks
        where locktype = 'advisory' and classid = 4870733 and database = (select oid from pg_database where datname = current_database()) and objid = $1 and granted and mode = 'ExclusiveLock'`,
      [2 * dutySlot('validate')],
    )
  ).rows[0]!.n;

async function submit(): Promise<string> {
  const c = await citizenWithEvidence(t);
  const res = await submitReport(t, c.token, reportBody([c.evidenceId]));
  expect(res.statusCode).toBe(202);
  return res.json().id;
}

const statusOf = async (id: string) => (await findReport(t.deps.pool, id))!.status;

describe('a sweep on duty', () => {
  it('claims arrivals as they come while submissions enqueue no job, then waits for a hand-off in flight', async () => {
    // Without a sweep on duty a submission enqueues its sweep job, as before.
    const before = await validateJobs();
    const waiting = await submit();
    expect(await validateJobs()).toBe(before + 1);
    expect(await statusOf(waiting)).toBe('received');

    let finished = false;
    const sweep = runBatchStage(t.deps.pool, 'validate', validate(), 100, {
      linger: { idleMs: 600, wakeups: t.deps.wakeups },
    }).then((n) => {
      finished = true;
      return n;
    });
    await until('the sweep to come on duty', async () => (await onDuty()) === 1);
    // What was waiting is taken at once; new arrivals are claimed as they come, and enqueue nothing.
    await until('the waiting report', async () => (await statusOf(waiting)) !== 'received');
    const jobs = await validateJobs();
    const arrived = [await submit(), await submit(), await submit()];
    for (const id of arrived) await until(`report ${id}`, async () => (await statusOf(id)) === 'validated');
    expect(await validateJobs()).toBe(jobs);

    // A hand-off that counted on the sweep is still open when the sweep's idle time runs out: the sweep must not go
    // off duty (and miss the report) before it commits. Here the hand-off puts one report back into the stage.
    const trx = await t.deps.pool.connect();
    try {
      await trx.query('begin');
      expect(await handoffNeedsJob(trx, 'validate')).toBe(false);
      await trx.query(`update reports set status = 'received' where id = $1`, [arrived[0]]);
      await new Promise((r) => setTimeout(r, 1200));
      expect(finished).toBe(false);
      await trx.query('commit');
    } finally {
      trx.release();
    }
    const done = await sweep;
    expect(done).toBe(5);
    expect(await statusOf(arrived[0]!)).toBe('validated');
    expect(await onDuty()).toBe(0);
    expect(await validateJobs()).toBe(jobs);
    // Off duty again: a submission enqueues its job.
    await submit();
    expect(await validateJobs()).toBe(jobs + 1);
  });

  it('going off duty, lets a hand-off that waited on it through only once it is off duty', async () => {
    const sweep = runBatchStage(t.deps.pool, 'validate', validate(), 100, {
      linger: { idleMs: 300, wakeups: t.deps.wakeups },
    });
    await until('the sweep to come on duty', async () => (await onDuty()) === 1);
    const first = await t.deps.pool.connect();
    const second = await t.deps.pool.connect();
    try {
      await first.query('begin');
      expect(await handoffNeedsJob(first, 'validate')).toBe(false);
      // The sweep's idle time runs out: it waits for `first` before its last claim…
      await until(
        'the sweep to wait for the hand-off',
        async () =>
          (
            await t.deps.pool.query<{ n: number }>(
              `select count(*)::int as n from pg_locks
                where locktype = 'advisory' and classid = 4870733 and database = (select oid from pg_database where datname = current_database()) and objid = $1 and not granted`,
              [2 * dutySlot('validate') + 1],
            )
          ).rows[0]!.n === 1,
      );
      // …and a later hand-off queues behind it. Once through, the sweep has made its last claim, so the later
      // hand-off must find nobody on duty and enqueue its own job.
      await second.query('begin');
      const later = handoffNeedsJob(second, 'validate');
      await first.query('commit');
      expect(await later).toBe(true);
      await second.query('commit');
    } finally {
      first.release();
      second.release();
    }
    await sweep;
    expect(await onDuty()).toBe(0);
  });

  it('stops lingering when aborted, and a second sweep meanwhile sweeps as a helper', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const sweep = runBatchStage(t.deps.pool, 'validate', validate(), 100, {
      linger: { idleMs: 60_000, wakeups: t.deps.wakeups, signal: abort.signal },
    });
    await until('the sweep to come on duty', async () => (await onDuty()) === 1);
    const id = await submit();
    // The helper cannot come on duty (the first one is); it sweeps once and returns.
    await runBatchStage(t.deps.pool, 'validate', validate(), 100, {
      linger: { idleMs: 60_000, wakeups: t.deps.wakeups },
    });
    await until('the report', async () => (await statusOf(id)) === 'validated');
    abort.abort();
    await sweep;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await onDuty()).toBe(0);
  });

  it('releases its locks with its session when it dies, and hand-offs enqueue jobs again', async () => {
    // Its failure is taken as soon as it happens (it fails the moment the session goes, before the test looks).
    const failed = runBatchStage(t.deps.pool, 'validate', validate(), 100, {
      linger: { idleMs: 60_000, wakeups: t.deps.wakeups },
    }).then(
      () => null,
      (err: unknown) => err,
    );
    await until('the sweep to come on duty', async () => (await onDuty()) === 1);
    const jobs = await validateJobs();
    // The sweep's session ends as if its process had been killed.
    await t.deps.pool.query(
      `select pg_terminate_backend(pid) from pg_locks
        where locktype = 'advisory' and classid = 4870733 and database = (select oid from pg_database where datname = current_database()) and objid = $1 and granted`,
      [2 * dutySlot('validate')],
    );
    expect(await failed).toMatchObject({ code: '57P01' }); // terminating connection due to administrator command
    await until('the lock to go with the session', async () => (await onDuty()) === 0);
    await submit();
    expect(await validateJobs()).toBe(jobs + 1);
  });
});

describe('a stage in batches', () => {
  it('brings in more workers for a backlog, handles each report once, and goes off duty when told', async () => {
    const c = await citizenWithEvidence(t);
    const ids = (
      await Promise.all(
        Array.from({ length: 250 }, () => submitReport(t, c.token, reportBody([c.evidenceId]))),
      )
    ).map((r) => r.json().id as string);
    const abort = new AbortController();
    const workers: number[] = [];
    const batches = runInBatches(t.deps.pool, 'validate', validate(), 50, {
      wakeups: t.deps.wakeups,
      holdMs: 200,
      signal: abort.signal,
      maxWorkers: 3,
      onWorkers: (n) => workers.push(n),
    });
    const validated = async (of: string[]) =>
      (
        await t.deps.pool.query<{ n: number }>(
          `select count(*)::int as n from report_events where report_id = any($1) and to_status = 'validated'`,
          [of],
        )
      ).rows[0]!.n;
    await until('the backlog is validated', async () => (await validated(ids)) === 250);
    await until('the batch has ended', async () => workers.at(-1) === 0);
    // Full claims of 50 brought in helpers, never more than allowed.
    expect(Math.max(...workers)).toBeGreaterThan(1);
    expect(Math.max(...workers)).toBeLessThanOrEqual(3);
    expect(await onDuty()).toBe(1);
    // An arrival while the batches are on duty enqueues no job, and is swept after the hold.
    const jobs = await validateJobs();
    const late = await submit();
    await until('the late report', async () => (await statusOf(late)) === 'validated');
    expect(await validateJobs()).toBe(jobs);
    abort.abort();
    expect(await batches).toBeGreaterThanOrEqual(251);
    expect(await onDuty()).toBe(0);
    // One event per report, however many workers took part.
    expect(await validated([...ids, late])).toBe(251);
  });
});
