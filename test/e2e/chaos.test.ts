import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { makeJpeg } from '../helpers/media.js';
import { client, type JarimaProcess, running, spawnJarima } from '../helpers/process.js';

/**
 * Chaos: real worker processes run the pipeline over a few hundred reports; one is killed with SIGKILL in the
 * middle and another started. Every report must end where it should, with exactly one event per transition.
 */
const MODES = ['pools', 'batches'] as const;
const dbs = {} as Record<(typeof MODES)[number], TestDatabase>;
const dirs: string[] = [];
const procs: JarimaProcess[] = [];
const FULL_CHAIN = ['submitted', 'validated', 'deduplicated', 'enriched', 'analyzed'];

beforeAll(async () => {
  for (const mode of MODES) dbs[mode] = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe.each([
  // Pools of a fixed size: the killed worker's jobs are unlocked once its heartbeat is old.
  { mode: 'pools' as const, workers: { AUTOSCALE: 'false' } as Record<string, string> },
  // As `jarima worker` runs by default: the autoscaler on, quiet stages in batches on duty (no jobs); its rounds too
  // rare to come during the test, so the stages stay in batches. The survivor comes on duty once the victim's
  // session is gone and sweeps what waits.
  { mode: 'batches' as const, workers: { AUTOSCALE: 'true', AUTOSCALE_INTERVAL_SECONDS: '600' } },
])('killing a worker mid-job ($mode)', ({ mode, workers }) => {
  it('loses nothing and runs nothing twice', async () => {
    const db = dbs[mode];
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'jarima-chaos-'));
    dirs.push(dataDir);
    const env = {
      DATABASE_URL: db.url,
      JARIMA_SECRET: 'c'.repeat(48),
      JARIMA_DATA_DIR: dataDir,
      WORKER_DEAD_AFTER_SECONDS: '3',
      RATE_LIMIT_SUBMIT_PER_MINUTE: '100000',
      RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    };
    const api = spawnJarima(['api'], { ...env, PORT: '0' });
    procs.push(api);
    const url = await running(api);
    const c = client(url);
    const token = await c.signIn('+998977770000');

    // Distinct photos and plates, so every report is expected to reach review.
    const N = 200;
    const evidence: string[] = [];
    for (let i = 0; i < N; i++) {
      const form = new FormData();
      form.append(
        'file',
        new Blob([new Uint8Array(await makeJpeg(640, 480))], { type: 'image/jpeg' }),
        `p${i}.jpg`,
      );
      const res = await fetch(`${url}/v1/evidence`, {
        method: 'POST',
        body: form,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status, `upload ${i}`).toBe(201);
      evidence.push(((await res.json()) as { id: string }).id);
    }
    const workerEnv = { ...env, ...workers, JARIMA_WORKERS: 'validate:2,dedupe:2,enrich:2,analyze:2' };
    const victim = spawnJarima(['worker'], workerEnv);
    procs.push(victim);
    await victim.waitFor(/Jarima worker running/);

    const ids = await Promise.all(
      evidence.map(async (e, i) => {
        const body = {
          violationCode: '128-6.1',
          plate: `${String(10 + (i % 80)).padStart(2, '0')} A ${String(i).padStart(3, '0')} BC`,
          lat: 41.2 + (i % 50) / 500,
          lon: 69.2 + (i % 40) / 400,
          incidentAt: new Date(Date.now() - 20 * 60_000).toISOString(),
          evidenceIds: [e],
        };
        const res = await c.call('POST', '/v1/reports', body, token);
        expect(res.status, JSON.stringify(res.body)).toBe(202);
        return res.body.id as string;
      }),
    );

    // Kill the worker while it is busy (some reports moved on, some not), then start another. It is killed as soon
    // as the first reports have left intake: a sweep moves up to 100 at once, so waiting for 20 to reach review
    // could let it finish all of them first.
    for (let i = 0; i < 400; i++) {
      const { rows } = await db.pool.query(
        `select count(*)::int as n from reports where status <> 'received'`,
      );
      if (rows[0].n >= 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await victim.stop('SIGKILL');
    const { rows: midway } = await db.pool.query(
      `select count(*)::int as n from reports where status = 'awaiting_review'`,
    );
    expect(midway[0].n).toBeLessThan(N);
    const survivor = spawnJarima(['worker'], workerEnv);
    procs.push(survivor);
    await survivor.waitFor(/Jarima worker running/);

    for (let i = 0; i < 1200; i++) {
      const { rows } = await db.pool.query(
        `select count(*)::int as n from reports where status = 'awaiting_review'`,
      );
      if (rows[0].n === N) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rows: statuses } = await db.pool.query(
      `select status, count(*)::int as n from reports where id = any($1::uuid[]) group by status`,
      [ids],
    );
    expect(statuses).toEqual([{ status: 'awaiting_review', n: N }]);
    const { rows: events } = await db.pool.query(
      `select report_id, array_agg(type order by seq) as types from report_events where report_id = any($1::uuid[]) group by report_id`,
      [ids],
    );
    expect(events).toHaveLength(N);
    for (const e of events) expect(e.types).toEqual(FULL_CHAIN);
    // The dead worker's locks are released once its heartbeat is WORKER_DEAD_AFTER_SECONDS (3 s here) old — the
    // reports may all be done before that, so wait for it: nothing may stay held by a worker that no longer beats.
    let stuck = -1;
    for (let i = 0; i < 100 && stuck !== 0; i++) {
      const { rows } = await db.pool.query(
        `select count(*)::int as n from graphile_worker._private_jobs j
          where j.locked_by is not null and not exists (select 1 from worker_heartbeats h where h.worker_id = j.locked_by)`,
      );
      stuck = rows[0].n;
      if (stuck) await new Promise((r) => setTimeout(r, 200));
    }
    expect(stuck).toBe(0);
    if (mode === 'batches') {
      // The survivor runs the four stages in batches: on duty for each (duty.ts's locks, even slots), idle now.
      const { rows: onDuty } = await db.pool.query(
        `select count(*)::int as n from pg_locks
          where locktype = 'advisory' and classid = 4870733 and objid::text::int % 2 = 0 and granted
            and database = (select oid from pg_database where datname = current_database())`,
      );
      expect(onDuty[0].n).toBe(4);
    }
    expect(await survivor.stop('SIGTERM')).toBe(0);
  }, 180_000);
});
