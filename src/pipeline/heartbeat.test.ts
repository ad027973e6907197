import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.js';
import { reapDeadWorkers } from './heartbeat.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

async function lockedJob(worker: string, lockedSecondsAgo: number): Promise<string> {
  const { rows } = await db.pool.query(
    `select id::text from graphile_worker.add_job('validate', '{}'::json)`,
  );
  await db.pool.query(
    `update graphile_worker._private_jobs set locked_by = $2, locked_at = now() - make_interval(secs => $3) where id = $1`,
    [rows[0].id, worker, lockedSecondsAgo],
  );
  return rows[0].id;
}

const lockOf = async (id: string) =>
  (await db.pool.query('select locked_by from graphile_worker._private_jobs where id = $1', [id])).rows[0]
    .locked_by;

describe('reaping dead workers', () => {
  it('unlocks the jobs of a worker whose heartbeat went stale, and only those', async () => {
    const dead = await lockedJob('worker-dead', 120);
    const alive = await lockedJob('worker-alive', 120);
    const fresh = await lockedJob('worker-just-started', 2); // never beat yet, but its lock is recent
    await db.pool.query(
      `insert into worker_heartbeats (worker_id, host, pid, seen_at) values
         ('worker-dead', 'h', 1, now() - interval '60 seconds'), ('worker-alive', 'h', 2, now())`,
    );
    expect(await reapDeadWorkers(db.pool, 30_000)).toEqual(['worker-dead']);
    expect(await lockOf(dead)).toBeNull();
    expect(await lockOf(alive)).toBe('worker-alive');
    expect(await lockOf(fresh)).toBe('worker-just-started');
    expect(
      (await db.pool.query(`select 1 from worker_heartbeats where worker_id = 'worker-dead'`)).rowCount,
    ).toBe(0);
  });

  it('treats a worker that never beat as dead once its lock is older than the limit', async () => {
    const job = await lockedJob('worker-never-beat', 45);
    expect(await reapDeadWorkers(db.pool, 30_000)).toContain('worker-never-beat');
    expect(await lockOf(job)).toBeNull();
  });
});
