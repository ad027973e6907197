import os from 'node:os';
import type { Logger } from 'pino';
import type { Pool } from '../platform/db/pool.js';

/**
 * The heartbeat registry. Every process beats for its own graphile-worker workers and reaps the dead: a worker
 * holding job locks whose heartbeat is older than `deadAfterMs` (or that never beat, for a lock that old) belongs
 * to a process that died without releasing them — kill -9, power loss — so its jobs are unlocked to run again.
 * Handlers are idempotent (version-guarded transitions), so a job that had half-run does no harm running again.
 */
export class HeartbeatRegistry {
  /** Worker id → the stage it serves. */
  private readonly mine = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly opts: { deadAfterMs: number; log: Logger },
  ) {}

  track(workerId: string, stage: string): void {
    this.mine.set(workerId, stage);
  }

  untrack(workerId: string): void {
    this.mine.delete(workerId);
    // A row left behind (database away) is reaped as a dead worker's once it is old enough.
    void this.pool
      .query('delete from worker_heartbeats where worker_id = $1', [workerId])
      .catch((err: unknown) => this.opts.log.warn({ err, workerId }, 'could not remove a worker heartbeat'));
  }

  /** Beats (and reaps) every deadAfter/6: a live worker is never more than a sixth of the limit behind. */
  start(): void {
    const every = Math.max(200, Math.floor(this.opts.deadAfterMs / 6));
    const tick = () => {
      this.beating = this.beat()
        .then(() => reapDeadWorkers(this.pool, this.opts.deadAfterMs))
        .then((reaped) => {
          if (reaped.length) this.opts.log.warn({ workers: reaped }, 'unlocked the jobs of dead workers');
        })
        .catch((err) => this.opts.log.warn({ err }, 'heartbeat failed'));
    };
    tick();
    this.timer = setInterval(tick, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    if (this.mine.size) {
      await this.pool
        .query('delete from worker_heartbeats where worker_id = any($1::text[])', [[...this.mine.keys()]])
        .catch((err: unknown) => this.opts.log.warn({ err }, 'could not remove the worker heartbeats'));
    }
  }

  private async beat(): Promise<void> {
    if (!this.mine.size) return;
    await this.pool.query(
      `insert into worker_heartbeats (worker_id, stage, host, pid, seen_at)
       select w, s, $3, $4, now() from unnest($1::text[], $2::text[]) as t(w, s)
       on conflict (worker_id) do update set seen_at = excluded.seen_at, stage = excluded.stage`,
      [[...this.mine.keys()], [...this.mine.values()], os.hostname(), process.pid],
    );
  }
}

/** Unlocks the jobs of workers that stopped beating; returns their ids. Safe to run from every process at once. */
export async function reapDeadWorkers(pool: Pool, deadAfterMs: number): Promise<string[]> {
  const { rows } = await pool.query<{ worker_id: string }>(
    `with holders as (
       select locked_by as worker_id, min(locked_at) as since from graphile_worker._private_jobs
        where locked_by is not null group by locked_by)
     select h.worker_id from holders h left join worker_heartbeats b using (worker_id)
      where coalesce(b.seen_at, h.since) < now() - make_interval(secs => $1)`,
    [deadAfterMs / 1000],
  );
  const dead = rows.map((r) => r.worker_id);
  if (dead.length) {
    await pool.query('select graphile_worker.force_unlock_workers($1::text[])', [dead]);
    await pool.query('delete from worker_heartbeats where worker_id = any($1::text[])', [dead]);
  }
  return dead;
}

/** Processes with live workers of each stage (this one included once its workers have beaten). */
export async function processesPerStage(pool: Pool, deadAfterMs: number): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ stage: string; processes: number }>(
    `select stage, count(distinct (host, pid))::int as processes from worker_heartbeats
      where stage is not null and seen_at > now() - make_interval(secs => $1) group by stage`,
    [deadAfterMs / 1000],
  );
  return Object.fromEntries(rows.map((r) => [r.stage, r.processes]));
}
