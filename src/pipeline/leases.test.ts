import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reportBody,
  signInCitizen,
  submitReport,
  type TestApp,
  until,
  uploadEvidence,
} from '../../test/helpers/app.js';
import { makeScene } from '../../test/helpers/media.js';
import type { BlobStore } from '../evidence/blob-store.js';
import type { Pool } from '../platform/db/pool.js';
import { enqueueJobs, sweepJob } from './jobs.js';
import { LEASE_FREE, newLease } from './runner/lease.js';
import { runBatchStage } from './runner.js';
import { analyzeStage } from './stages/analyze/analyze.js';
import { dedupeStage } from './stages/dedupe/dedupe.js';
import { enrichStage } from './stages/enrich/enrich.js';
import { forwardSweep } from './stages/forward/forward.js';
import { casesOf, claimForForward } from './stages/forward/forward.repository.js';
import { validateStage } from './stages/validate/validate.js';

/**
 * Outbound calls (the registry) and slow media analysis run outside any transaction: while they are slow, no
 * session of Jarima sits `idle in transaction` holding row locks, and the pool still serves a status read at once.
 * A claim whose process died after its call is taken up again when its lease lapses, and forwarded exactly once.
 */

/** Sessions on the app's database (other than the watcher's own) idle inside an open transaction right now. */
async function idleInTransaction(watcher: Pool): Promise<{ pid: number; query: string }[]> {
  const { rows } = await watcher.query<{ pid: number; query: string }>(
    `select pid, query from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and state = 'idle in transaction'`,
  );
  return rows;
}

/**
 * Watches until `done()`: sessions idle in transaction while `slow()` (the slow work is under way: a look taken
 * while it was, from start to end, for the short claim and record transactions around it pause between their
 * statements too), and how long each status read took. Reads go round `ids`, so most miss the cache and need a
 * pooled connection.
 */
async function watchWhile(
  t: TestApp,
  citizenToken: string,
  ids: string[],
  done: () => boolean,
  slow: () => boolean = () => true,
): Promise<{ idle: { pid: number; query: string }[]; looks: number; readsMs: number[] }> {
  const idle: { pid: number; query: string }[] = [];
  const readsMs: number[] = [];
  let looks = 0;
  // The first request of a process compiles its route's code paths; that is not the pool's wait.
  await t.app.inject({ method: 'GET', url: `/v1/reports/${ids[0]}`, headers: bearer(citizenToken) });
  for (let i = 1; !done(); i++) {
    const during = slow();
    const now = await idleInTransaction(t.db.pool);
    if (during && slow()) {
      looks++;
      idle.push(...now);
    }
    const started = performance.now();
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/reports/${ids[i % ids.length]}`,
      headers: bearer(citizenToken),
    });
    readsMs.push(performance.now() - started);
    expect(res.statusCode).toBe(200);
    await sleep(20);
  }
  return { idle, looks, readsMs };
}

/** N approved reports of one citizen (as a review leaves them), each with evidence of its own. */
async function approvedReports(t: TestApp, citizenId: string, n: number): Promise<string[]> {
  const { rows } = await t.deps.pool.query<{ id: string }>(
    `with e as (
       insert into evidence (id, sha256, kind, mime, bytes)
       select gen_random_uuid(), sha256(gen_random_uuid()::text::bytea), 'photo', 'image/jpeg', 1000
         from generate_series(1, $2) returning id),
     en as (select id, row_number() over () as i from e),
     r as (
       insert into reports (id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, status,
                            last_event_hash, approved_at, forward_due_at)
       select gen_random_uuid(), $1, '128-6.1', '01A' || lpad(i::text, 3, '0') || 'BC', '01 A ' || i, 41.3, 69.28,
              now() - interval '1 hour', 'approved', '\\x00', now(), now() + interval '48 hours'
         from generate_series(1, $2) i returning id),
     rn as (select id, row_number() over () as i from r),
     links as (insert into report_evidence (report_id, evidence_id, position)
               select rn.id, en.id, 0 from rn join en using (i) returning report_id)
     select report_id as id from links`,
    [citizenId, n],
  );
  return rows.map((r) => r.id);
}

async function forwardedEvents(t: TestApp, ids: string[]) {
  const { rows } = await t.deps.pool.query<{ report_id: string; n: number; known: boolean }>(
    `select report_id, count(*)::int as n, bool_and((data->>'alreadyKnown')::boolean) as known
       from report_events where type = 'forwarded' and report_id = any($1::uuid[]) group by report_id`,
    [ids],
  );
  return rows;
}

describe('forwarding to a slow registry', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(
      { GOV_REGISTRY_TIMEOUT_MS: '10000', GOV_REGISTRY_RETRIES: '0' },
      { workers: 'forward:2', gov: { fineAfterMs: null, payAfterMs: null } },
    );
  });

  it('holds no transaction open while a batch waits 5 s per call, and the pool still answers at once', async () => {
    const N = 16;
    const citizen = await signInCitizen(t);
    const ids = await approvedReports(t, citizen.id, N);
    t.gov!.control.set({ latencyMs: 5000 });
    await enqueueJobs(t.deps.pool, [sweepJob('forward')]);

    // Eight calls at a time, each held 5 s: the whole batch is at the registry for ~10 s.
    await until('the first calls at the registry', async () => t.gov!.control.stats().requests >= 8);
    const end = Date.now() + 9000;
    const seen = await watchWhile(t, citizen.token, ids, () => Date.now() > end);
    expect(t.gov!.control.stats().casesCreated).toBeLessThan(N);
    expect(seen.looks).toBeGreaterThan(50);
    expect(seen.idle).toEqual([]);
    expect(Math.max(...seen.readsMs)).toBeLessThan(100);

    await until('every report forwarded', async () => (await forwardedEvents(t, ids)).length === N, 20_000);
    const events = await forwardedEvents(t, ids);
    expect(events.every((e) => e.n === 1)).toBe(true);
    expect(t.gov!.control.stats().casesCreated).toBe(N);
    const { rows } = await t.deps.pool.query(
      `select count(*)::int as n from reports where id = any($1::uuid[])
          and status = 'forwarded' and stage_lease_owner is null`,
      [ids],
    );
    expect(rows[0].n).toBe(N);
  }, 60_000);
});

describe('a process killed between the registry call and the record', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { gov: { fineAfterMs: null, payAfterMs: null } });
  });

  it('leaves a lease that lapses, and the next sweep forwards each report exactly once', async () => {
    const N = 5;
    const citizen = await signInCitizen(t);
    const ids = await approvedReports(t, citizen.id, N);
    const deps = { pool: t.deps.pool, registry: t.deps.govRegistry, logger: t.deps.logger };

    // The dead process: it leased the reports, its calls opened the cases, and it never recorded them.
    const lease = newLease(1500);
    const claimed = await claimForForward(t.deps.pool, 20, [], lease);
    expect(claimed.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const c of await casesOf(t.deps.pool, claimed)) await t.deps.govRegistry.submitCase(c);
    expect(t.gov!.control.stats().casesCreated).toBe(N);

    // While the lease is live another sweep leaves the reports alone, and schedules a look for when it lapses.
    expect(await forwardSweep(deps)).toBe(0);
    const { rows: looks } = await t.deps.pool.query<{ run_at: Date; until: Date }>(
      `select j.run_at, (select max(stage_lease_expires_at) from reports where id = any($2::uuid[])) as until
         from graphile_worker.jobs j where j.key = $1`,
      [`forward:lapse:${lease.owner}`, ids],
    );
    expect(looks).toHaveLength(1);
    expect(looks[0]!.run_at.getTime()).toBe(looks[0]!.until.getTime());
    expect(await forwardedEvents(t, ids)).toEqual([]);

    await sleep(1600);
    expect(await forwardSweep(deps)).toBe(N);
    // The registry answered with the cases it had: none opened twice, each recorded once, as already known.
    const stats = t.gov!.control.stats();
    expect(stats.casesCreated).toBe(N);
    expect(stats.duplicatesAnswered).toBe(N);
    const events = await forwardedEvents(t, ids);
    expect(events).toHaveLength(N);
    expect(events.every((e) => e.n === 1 && e.known)).toBe(true);

    // The dead claim's record, had it come late, would change nothing: its lease is gone.
    expect(await forwardSweep(deps)).toBe(0);
    expect((await forwardedEvents(t, ids)).every((e) => e.n === 1)).toBe(true);
    const { rows } = await t.deps.pool.query(
      `select count(distinct case_number)::int as n from reports
        where id = any($1::uuid[]) and status = 'forwarded' and stage_lease_owner is null`,
      [ids],
    );
    expect(rows[0].n).toBe(N);
  }, 30_000);
});

describe('the lease queries', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  /** The plan PostgreSQL would use with the index at hand (this file's tables are too small to prefer it). */
  async function plan(sql: string, params: unknown[]): Promise<string> {
    const client = await t.deps.pool.connect();
    try {
      await client.query('begin');
      await client.query('set local enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain ${sql}`, params);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await client.query('rollback');
      client.release();
    }
  }

  it('claim for forwarding from reports_to_forward, and find the next lapse in reports_stage_leases', async () => {
    expect(
      await plan(
        `select id from reports where status = 'approved' and ${LEASE_FREE} and id <> all($1::uuid[])
          order by forward_due_at, id limit 20 for update skip locked`,
        [[]],
      ),
    ).toContain('reports_to_forward');
    expect(
      await plan(
        `select stage_lease_owner, stage_lease_expires_at from reports
          where status = $1 and stage_lease_owner is not null and stage_lease_expires_at > now()
          order by stage_lease_expires_at limit 1`,
        ['approved'],
      ),
    ).toContain('reports_stage_leases');
  });
});

describe('slow media analysis', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  /** Files the slow store below is taking its time over. */
  let handing = 0;
  /** The app's blob store, taking `ms` to hand a file to the analysis (a remote store downloading, a slow disk). */
  const slow = (blobs: BlobStore, ms: number): BlobStore => ({
    createUpload: () => blobs.createUpload(),
    read: (sha, range) => blobs.read(sha, range),
    has: (sha) => blobs.has(sha),
    putBuffer: (content) => blobs.putBuffer(content),
    withLocalFile: async (sha, fn) => {
      handing++;
      await sleep(ms).finally(() => handing--);
      return blobs.withLocalFile(sha, fn);
    },
    sweepAbandoned: (ms) => blobs.sweepAbandoned(ms),
    delete: (sha) => blobs.delete(sha),
  });

  it('holds no transaction open while it analyses leftovers, and decides as before', async () => {
    const { reference, boundaries, config, pool } = t.deps;
    const citizen = await signInCitizen(t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const evidenceId = (await uploadEvidence(t, citizen.token, await makeScene(1280, 720))).json().id;
      const res = await submitReport(t, citizen.token, reportBody([evidenceId]));
      expect(res.statusCode).toBe(202);
      ids.push(res.json().id);
    }
    for (const [name, stage] of [
      ['validate', validateStage({ reference, boundaries, config })],
      ['dedupe', dedupeStage(config)],
      ['enrich', enrichStage({ reference, boundaries, config })],
    ] as const) {
      await runBatchStage(pool, name, stage, 100);
    }
    // Two reports' evidence left unanalysed by the upload (the third's was analysed there, as most are).
    await pool.query(
      `update evidence set analyzed_at = null where id in (
         select evidence_id from report_evidence where report_id = any($1::uuid[]))`,
      [ids.slice(0, 2)],
    );

    let finished = false;
    const analysis = runBatchStage(
      pool,
      'analyze',
      analyzeStage({ blobs: slow(t.deps.blobs, 3000), media: t.deps.media, config }),
      100,
    ).finally(() => {
      finished = true;
    });
    const seen = await watchWhile(
      t,
      citizen.token,
      ids,
      () => finished,
      () => handing > 0,
    );
    expect(await analysis).toBe(3);
    expect(seen.looks).toBeGreaterThan(30);
    expect(seen.idle).toEqual([]);
    expect(Math.max(...seen.readsMs)).toBeLessThan(100);

    const { rows } = await pool.query<{ status: string; priority: number | null; lease: string | null }>(
      `select status, priority, stage_lease_owner as lease from reports where id = any($1::uuid[])`,
      [ids],
    );
    expect(rows.every((r) => r.status === 'awaiting_review' && r.priority !== null && r.lease === null)).toBe(
      true,
    );
    const { rows: analysed } = await pool.query(
      `select count(*)::int as n from report_evidence re join evidence e on e.id = re.evidence_id
        where re.report_id = any($1::uuid[]) and e.analyzed_at is not null and e.sharpness is not null`,
      [ids],
    );
    expect(analysed[0].n).toBe(3);
    const { rows: events } = await pool.query(
      `select count(*)::int as n from report_events where type = 'analyzed' and report_id = any($1::uuid[])`,
      [ids],
    );
    expect(events[0].n).toBe(3);
  }, 30_000);
});
