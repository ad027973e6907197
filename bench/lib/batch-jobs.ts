/**
 * Bench-only scaffolding for one measurement (docs/pipeline.md, "Claiming: our protocol against graphile-worker's
 * batching"): the automated stages claimed through graphile-worker's own batching instead of duty.ts's protocol.
 *
 * Hand-offs: a statement-level trigger on `reports` enqueues, in the transaction that moved them, one batch job per
 * stage entered whose payload is the array of the reports handed to it ([{ id }, …]); `pipeline_handoff_free` is
 * replaced by `false` so the application's own hand-off enqueues no sweep job. Workers: one graphile-worker runner
 * per stage, in the server process, with the local queue and batched completion, each job running the stage's
 * decide/apply transaction (runner/step.ts) for its reports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { run, type Task, Logger as WorkerLogger } from 'graphile-worker';
import { LocalBlobStore } from '../../src/evidence/blob-store.js';
import { BoundariesCache } from '../../src/geo/boundaries-cache.js';
import { DUTY_STAGES } from '../../src/pipeline/duty.js';
import type { JobName } from '../../src/pipeline/jobs.js';
import { parseWorkerPools } from '../../src/pipeline/pools.js';
import { STAGE_INPUT } from '../../src/pipeline/queues.js';
import type { ReportStage } from '../../src/pipeline/runner.js';
import { analyzeStage } from '../../src/pipeline/stages/analyze/analyze.js';
import { dedupeStage } from '../../src/pipeline/stages/dedupe/dedupe.js';
import { enrichStage } from '../../src/pipeline/stages/enrich/enrich.js';
import { validateStage } from '../../src/pipeline/stages/validate/validate.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { createPool, type Pool, withTransaction } from '../../src/platform/db/pool.js';
import { ReferenceData } from '../../src/reference/reference.js';
import { REPORT_COLUMNS, type ReportRow } from '../../src/reports/reports.repository.js';
import { applyTransitions } from '../../src/reports/transition.js';

/** graphile-worker's batching settings under test (its docs' starting points, sized for these stages). */
export const BATCH_JOB_SETTINGS = {
  localQueue: { size: 10, ttl: 60_000, refetchDelay: { durationMs: 10 } },
  completeJobBatchDelay: 250,
  failJobBatchDelay: 250,
} as const;

const STAGE_OF_STATUS = `case status ${DUTY_STAGES.map((s) => `when '${STAGE_INPUT[s]}' then '${s}'`).join(' ')} end`;

/**
 * Makes every hand-off to an automated stage enqueue a batch job of its reports (see the module comment). `keyed`:
 * one job key per stage, so a hand-off whose stage already has a job waiting appends its reports to that job's
 * payload (graphile-worker's batch-job merge) instead of adding a job — at the price of every hand-off to the stage
 * locking that one job row until it commits.
 */
export async function installBatchJobHandoffs(pool: Pool, keyed: boolean): Promise<void> {
  const grouped = (rows: string, where: string) => `
    select bench_stage_of(n.status) as stage, json_agg(json_build_object('id', n.id) order by n.id) as payload
      from ${rows} where ${where} and bench_stage_of(n.status) is not null group by 1`;
  const enqueue = (rows: string, where: string) =>
    keyed
      ? `perform graphile_worker.add_job(s.stage, s.payload, job_key := 'batch:' || s.stage,
                                         job_key_mode := 'preserve_run_at')
           from (${grouped(rows, where)}) s;`
      : `perform graphile_worker.add_jobs(array(
           select (stage, payload, null, null, null, null, null, null)::graphile_worker.job_spec
             from (${grouped(rows, where)}) s))
          where exists (select 1 from ${rows} where ${where} and bench_stage_of(n.status) is not null);`;
  await pool.query(`
    create or replace function pipeline_handoff_free(stage_slot int) returns boolean language sql as 'select false';
    create function bench_stage_of(status text) returns text language sql immutable as $$ select ${STAGE_OF_STATUS} $$;
    create function bench_handoff_inserted() returns trigger language plpgsql as $$
    begin ${enqueue('new_rows n', 'true')} return null; end $$;
    create function bench_handoff_updated() returns trigger language plpgsql as $$
    begin ${enqueue('new_rows n join old_rows o on o.id = n.id', 'n.status is distinct from o.status')} return null; end $$;
    create trigger bench_handoff_inserted after insert on reports referencing new table as new_rows
      for each statement execute function bench_handoff_inserted();
    create trigger bench_handoff_updated after update on reports referencing old table as old_rows new table as new_rows
      for each statement execute function bench_handoff_updated();
  `);
}

/**
 * Starts one graphile-worker runner per automated stage named in BENCH_BATCH_JOB_WORKERS ("validate:2,…", the
 * sizes the duty runs give their pools), in this process.
 */
export async function startBatchJobWorkers(env: NodeJS.ProcessEnv): Promise<{ stop(): Promise<void> }> {
  const config = loadConfig(env);
  const pool = createPool(config.DATABASE_URL!, config.DB_POOL_MAX);
  const [reference, boundaries] = await Promise.all([ReferenceData.load(pool), BoundariesCache.load(pool)]);
  const blobs = new LocalBlobStore(path.join(config.JARIMA_DATA_DIR, 'blobs'), {
    memoryPerUpload: config.EVIDENCE_MEMORY_PER_UPLOAD_BYTES,
    memoryBudget: config.EVIDENCE_MEMORY_BUDGET_BYTES,
  });
  const stages: Record<(typeof DUTY_STAGES)[number], ReportStage> = {
    validate: validateStage({ reference, boundaries, config }),
    dedupe: dedupeStage(config),
    enrich: enrichStage({ reference, boundaries, config }),
    analyze: analyzeStage({ blobs, config }),
  };
  const sizes = parseWorkerPools(env.BENCH_BATCH_JOB_WORKERS ?? '', 'BENCH_BATCH_JOB_WORKERS');
  const logger = new WorkerLogger(() => (level, message) => {
    if (level === 'error' || level === 'warning') console.error(`graphile-worker: ${message}`);
  });
  const runners = await Promise.all(
    DUTY_STAGES.filter((s) => sizes[s] > 0).map((name) =>
      run({
        pgPool: pool,
        taskList: { [name]: batchTask(pool, name, stages[name]) },
        concurrency: sizes[name],
        noHandleSignals: true,
        parsedCronItems: [],
        pollInterval: 2000,
        logger,
        preset: { worker: BATCH_JOB_SETTINGS },
      }),
    ),
  );
  return {
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
      await pool.end();
    },
  };
}

/** One job: the stage's decide/apply transaction for the reports in its payload still waiting for the stage. */
function batchTask(pool: Pool, name: JobName, stage: ReportStage): Task {
  return async (payload) => {
    if (!Array.isArray(payload)) return;
    const ids = payload.map((p) => (p as { id: string }).id);
    await withTransaction(pool, async (trx) => {
      const { rows: reports } = await trx.query<ReportRow>(
        `select ${REPORT_COLUMNS} from reports where id = any($1::uuid[]) and status = $2 order by id for update`,
        [ids, stage.from[0]],
      );
      if (reports.length === 0) return;
      await stage.prepare?.(reports, pool);
      const decisions = await stage.decide(reports, trx);
      await applyTransitions(
        trx,
        reports.map((report, i) => ({ report, t: { ...decisions[i]!, actor: `system:${name}` } })),
      );
    });
  };
}

/** Starts bench/lib/batch-jobs-server.mjs (`jarima start` plus the batch-job workers) and resolves with its URL. */
export async function startBatchJobServer(
  env: Record<string, string>,
): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [path.join(import.meta.dirname, 'batch-jobs-server.mjs')], {
    env: { ...process.env, AUTOSCALE: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /Jarima is running at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`batch-jobs server exited ${code}:\n${out}`)));
  });
  // Its warnings and the workers' errors, as they come.
  proc.stderr!.on('data', (d) => process.stderr.write(d));
  return { url, proc };
}
