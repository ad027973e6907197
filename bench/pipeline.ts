import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { prepareDatabase } from '../src/app/setup.js';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.js';
import { createPool, type Pool } from '../src/platform/db/pool.js';
import { deriveKeys } from '../src/platform/security/keys.js';
import { PIPELINE_WAITING } from '../src/reports/status.js';
import { cpuPerUnit, type ProcessGroup, treeCpuSeconds } from './lib/cpu.js';
import { clientPool, evidenceUpload, type OpenLoopResult, openLoop, send, table } from './lib/open-loop.js';
import { startServer, startWorkerProcess, stopServer } from './lib/server.js';
import { seedCitizens } from './lib/volume.js';

/** Citizens filing the run's reports: ~6 each in the 120 s run at 100/s. */
const CITIZENS = 2000;

export interface PipelineBenchOptions {
  rate: number;
  seconds: number;
  /** Seconds at the steady rate before phase 1, not measured: JIT, caches and the first autovacuum runs settle. */
  warmup: number;
  burst: number;
  workers: string;
  /** Pools to run in a separate `jarima worker` process (e.g. "analyze:2"), beside the server's own. */
  separate: string | null;
  /** When the photos are uploaded: by each arrival just before it submits (inline), or all before the phases. */
  uploads: 'inline' | 'before';
  /** Print PostgreSQL's most expensive statements (pg_stat_statements) after the run. */
  statements: boolean;
  /**
   * Run the server as `jarima start` does by default: the autoscaler sizing the pools from `workers`, quiet stages in
   * batches. Off, the pools keep the sizes `workers` gives.
   */
  autoscale: boolean;
}

/**
 * `npm run bench -- pipeline`: real small photos through every automated stage (validate, dedupe, enrich,
 * analyze) on `jarima start` with a fresh embedded PostgreSQL. Phase 1 submits at a steady rate and measures, per
 * report, the time from its `submitted` event (the 202) to its `analyzed` event (awaiting review). Phase 2 submits a
 * burst and measures the sustained throughput through all stages. Times come from the event rows themselves.
 */
export async function pipelineBench(o: PipelineBenchOptions): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'jarima-bench-pipe-'));
  const pgDir = path.join(tmp, 'pg');
  const db = await startEmbeddedPostgres({
    dir: pgDir,
    settings: o.statements ? { shared_preload_libraries: 'pg_stat_statements' } : {},
  });
  let child: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  const pool = createPool(db.url, 4);
  try {
    await prepareDatabase(pool);
    if (o.statements) await pool.query('create extension if not exists pg_stat_statements');
    const secret = randomBytes(32).toString('hex');
    const started = await startServer({
      DATABASE_URL: db.url,
      JARIMA_SECRET: secret,
      JARIMA_DATA_DIR: path.join(tmp, 'data'),
      PORT: '0',
      LOG_LEVEL: 'warn',
      JARIMA_WORKERS: o.workers,
      AUTOSCALE: String(o.autoscale),
      RATE_LIMIT_SUBMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    });
    child = started.proc;
    if (o.separate) {
      worker = await startWorkerProcess({
        DATABASE_URL: db.url,
        JARIMA_SECRET: secret,
        JARIMA_DATA_DIR: path.join(tmp, 'data'),
        LOG_LEVEL: 'warn',
        JARIMA_WORKERS: o.separate,
      });
    }
    const url = started.url;
    const http = clientPool(url, 32);
    // Arrivals come from many citizens, a few reports each over a run, as in life.
    const citizens = await seedCitizens(pool, deriveKeys(secret).token, CITIZENS);
    const tokenOf = (i: number) => citizens[i % citizens.length]!.token;

    const warm = Math.round(o.rate * o.warmup);
    const total = warm + Math.round(o.rate * o.seconds) + o.burst;
    console.log(`making ${total} distinct 640×480 photos …`);
    const photos = await makePhotos(total);

    // Each arrival is a citizen filing one report: upload the photo, then submit the report naming it, at once
    // (no time spent filling in the form, so the upload's analysis is on the measured path).
    const serverPids = new Set([child.pid, worker?.pid].filter((p): p is number => p !== undefined));
    const groups: Record<string, ProcessGroup> = {
      server: { match: (pid) => serverPids.has(pid), ownOnly: true },
      // This run's embedded server (its command line names its data directory) and its backends, not the other
      // PostgreSQL servers on the machine (tests running beside the benchmark start their own).
      postgres: { match: (_, cmd) => cmd.includes(` -D ${pgDir} `), descendants: true },
      'load generator': { match: (pid) => pid === process.pid, ownOnly: true },
    };
    const upload = async (i: number) => {
      const res = await send(http, evidenceUpload(tokenOf(i), photos[i]!, `p${i}.jpg`));
      return { ...res, id: res.status === 201 ? (JSON.parse(res.text) as { id: string }).id : null };
    };
    const submit = (i: number, evidenceId: string) =>
      send(http, {
        method: 'POST',
        path: '/v1/reports',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenOf(i)}` },
        body: JSON.stringify({
          violationCode: '128-6.1',
          plate: `${String(10 + (i % 80)).padStart(2, '0')} A ${String(i % 1000).padStart(3, '0')} ${String.fromCharCode(65 + ((i / 1000) | 0))}B`,
          lat: 41.2 + (i % 97) / 1000,
          lon: 69.2 + (i % 89) / 1000,
          incidentAt: new Date(Date.now() - 20 * 60_000).toISOString(),
          evidenceIds: [evidenceId],
        }),
      });

    // inline: each arrival is a citizen who uploads the photo and submits the report naming it at once (no time
    // spent on the form), so the upload and its picture analysis are on the measured path and in the CPU figures.
    // before: every photo is uploaded first, untimed, and the arrivals only submit (the pipeline after the 202).
    const uploaded: string[] = [];
    if (o.uploads === 'before') {
      console.log(`uploading ${total} photos before the measured phases …`);
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < total) {
            const i = next++;
            uploaded[i] = (await upload(i)).id!;
          }
        }),
      );
    }
    let arrivals = 0;
    const act = async () => {
      const i = arrivals++;
      if (o.uploads === 'before') return submit(i, uploaded[i]!);
      const u = await upload(i);
      return u.id ? submit(i, u.id) : u;
    };

    let warmed = 0;
    if (warm > 0) {
      console.log(`warm-up: ${o.rate} reports/s for ${o.warmup} s, not measured …`);
      warmed = (await openLoop({ pool: http, rate: o.rate, seconds: o.warmup, okStatus: 202, act })).ok;
      await waitAllDone(pool, warmed);
    }
    console.log(`phase 1: ${o.rate} reports/s for ${o.seconds} s …`);
    if (o.statements) await pool.query('select pg_stat_statements_reset()');
    const load0 = os.loadavg()[0]!;
    const cpu0 = treeCpuSeconds(groups);
    const steady = await openLoop({ pool: http, rate: o.rate, seconds: o.seconds, okStatus: 202, act });
    await waitAllDone(pool, warmed + steady.ok);
    const cpu1 = treeCpuSeconds(groups);
    const load1 = os.loadavg()[0]!;
    const steadyStats = await latencies(pool, warmed, steady.ok, o.uploads === 'inline');

    console.log(`phase 2: a burst of ${o.burst} reports …`);
    const burst = await openLoop({ pool: http, rate: 1000, seconds: o.burst / 1000, okStatus: 202, act });
    await waitAllDone(pool, warmed + steady.ok + burst.ok);
    const cpu2 = treeCpuSeconds(groups);
    const burstStats = await latencies(pool, warmed + steady.ok, burst.ok, o.uploads === 'inline');
    await http.close();

    console.log('');
    console.log(
      `machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    console.log(
      `workers: JARIMA_WORKERS=${o.workers}${o.autoscale ? ' (starting sizes; the autoscaler on)' : ''}${o.separate ? `; separate worker process: ${o.separate}` : ''}; uploads: ${o.uploads}; load average (other work on the machine) ${load0.toFixed(2)} → ${load1.toFixed(2)} in phase 1`,
    );
    print(o, 'steady', steady, steadyStats, cpuPerUnit(cpu0, cpu1, steady.ok));
    print(o, 'burst', burst, burstStats, cpuPerUnit(cpu1, cpu2, burst.ok));
    if (o.statements) await printStatements(pool, steady.ok + burst.ok);
  } finally {
    await stopServer(worker);
    await stopServer(child);
    await pool.end();
    await db.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The statements that cost PostgreSQL the most time over both phases, per report submitted. */
async function printStatements(pool: Pool, reports: number): Promise<void> {
  const { rows } = await pool.query<{
    query: string;
    calls: number;
    total: number;
    mean: number;
    rows: number;
  }>(
    `select regexp_replace(query, '\\s+', ' ', 'g') as query, calls::int, total_exec_time as total,
            mean_exec_time as mean, rows::int
       from pg_stat_statements order by total_exec_time desc limit 20`,
  );
  const all = await pool.query<{ calls: number; total: number }>(
    'select sum(calls)::int as calls, sum(total_exec_time)::float8 as total from pg_stat_statements',
  );
  console.log(
    `\nPostgreSQL statements by total time (pg_stat_statements, ${reports} reports): ` +
      `${(all.rows[0]!.calls / reports).toFixed(1)} statements and ` +
      `${(all.rows[0]!.total / reports).toFixed(2)} ms of execution per report`,
  );
  console.log(
    table(
      ['ms per report', 'calls', 'mean ms', 'rows', 'statement'],
      rows.map((r) => [
        (r.total / reports).toFixed(3),
        r.calls,
        r.mean.toFixed(3),
        r.rows,
        r.query.slice(0, 110),
      ]),
    ),
  );
}

interface Stats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  uploadP50: number;
  uploadP95: number;
  spanSeconds: number;
  stageMs: Record<string, number>;
}

function print(
  o: PipelineBenchOptions,
  name: string,
  load: OpenLoopResult,
  s: Stats,
  cpu: Record<string, number>,
) {
  console.log(
    `\n${name}: submitted ${load.ok} (${load.errors} errors) at ${load.achieved.toFixed(0)}/s; ${o.uploads === 'inline' ? 'upload + ' : ''}submit p50 ${load.p50.toFixed(1)} ms, p99 ${load.p99.toFixed(1)} ms${load.errorSamples.length ? `; errors such as ${load.errorSamples[0]}` : ''}`,
  );
  console.log(
    table(
      [
        'reports',
        '202→review p50 ms',
        'p95 ms',
        'p99 ms',
        'upload→review p50 ms',
        'p95 ms',
        'throughput /s',
        ...Object.keys(s.stageMs).map((k) => `${k} ms`),
      ],
      [
        [
          s.count,
          s.p50.toFixed(0),
          s.p95.toFixed(0),
          s.p99.toFixed(0),
          s.uploadP50.toFixed(0),
          s.uploadP95.toFixed(0),
          (s.count / s.spanSeconds).toFixed(1),
          ...Object.values(s.stageMs).map((v) => v.toFixed(0)),
        ],
      ],
    ),
  );
  const total = Object.values(cpu).reduce((a, b) => a + b, 0);
  console.log(
    `CPU per report (${o.uploads === 'inline' ? 'upload, ' : ''}submit and every stage): ${Object.entries(cpu)
      .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
      .join(
        ', ',
      )}; total ${total.toFixed(1)} ms → at most ${((os.cpus().length * 1000) / total).toFixed(0)} reports/s on ${os.cpus().length} cores`,
  );
}

/** From the event rows: 202 (submitted) → awaiting review (analyzed), and the mean time spent before each stage's event. */
export async function latencies(pool: Pool, offset: number, count: number, inline: boolean): Promise<Stats> {
  const { rows } = await pool.query<{
    total: number;
    fromupload: number;
    v: number;
    d: number;
    e: number;
    a: number;
    first: Date;
    uploaded: Date;
    last: Date;
  }>(
    `with r as (select id from reports order by id offset $1 limit $2),
     t as (select e.report_id,
                  max(at) filter (where type = 'submitted') as s, max(at) filter (where type = 'validated') as v,
                  max(at) filter (where type = 'deduplicated') as d, max(at) filter (where type = 'enriched') as e,
                  max(at) filter (where type = 'analyzed') as a,
                  (select min(ev.created_at) from report_evidence re join evidence ev on ev.id = re.evidence_id
                    where re.report_id = e.report_id) as u
             from report_events e join r on r.id = e.report_id group by e.report_id)
     select extract(epoch from a - s) * 1000 as total, extract(epoch from a - u) * 1000 as fromupload, extract(epoch from v - s) * 1000 as v,
            extract(epoch from d - v) * 1000 as d, extract(epoch from e - d) * 1000 as e, extract(epoch from a - e) * 1000 as a,
            s as first, u as uploaded, a as last
       from t where a is not null`,
    [offset, count],
  );
  const totals = rows.map((r) => r.total).sort((a, b) => a - b);
  const q = (p: number) => totals[Math.min(totals.length - 1, Math.floor(p * totals.length))] ?? 0;
  const fromUpload = rows.map((r) => r.fromupload).sort((a, b) => a - b);
  const qu = (p: number) =>
    fromUpload[Math.min(fromUpload.length - 1, Math.floor(p * fromUpload.length))] ?? 0;
  const mean = (k: 'v' | 'd' | 'e' | 'a') =>
    rows.reduce((sum, r) => sum + r[k], 0) / Math.max(1, rows.length);
  const first = Math.min(...rows.map((r) => (inline ? r.uploaded : r.first).getTime()));
  const last = Math.max(...rows.map((r) => r.last.getTime()));
  return {
    count: rows.length,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    uploadP50: qu(0.5),
    uploadP95: qu(0.95),
    spanSeconds: (last - first) / 1000,
    stageMs: {
      '→validated': mean('v'),
      '→deduplicated': mean('d'),
      '→enriched': mean('e'),
      '→analyzed': mean('a'),
    },
  };
}

export async function waitAllDone(pool: Pool, expected: number): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    const { rows } = await pool.query<{ n: number }>(
      'select count(*)::int as n from reports where status <> all($1::text[])',
      [PIPELINE_WAITING],
    );
    if (rows[0]!.n >= expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('pipeline did not finish in 10 minutes');
}

/** Distinct photos (random shapes), made before the measured phases. */
export async function makePhotos(count: number): Promise<Buffer[]> {
  const r = () => Math.floor(Math.random() * 255);
  const photos: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><rect width="640" height="480" fill="rgb(${r()},${r()},${r()})"/><circle cx="${r() * 2}" cy="${r()}" r="${40 + r() / 4}" fill="rgb(${r()},${r()},${r()})"/><rect x="${r()}" y="${r()}" width="${60 + r()}" height="${40 + r() / 2}" fill="rgb(${r()},${r()},${r()})"/></svg>`;
    photos.push(await sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer());
  }
  return photos;
}
