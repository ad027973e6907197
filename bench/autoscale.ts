import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { prepareDatabase } from '../src/app/setup.js';
import { issueSessionTokens } from '../src/auth/sessions.js';
import { BENCHMARK, loadMeasurements, planCapacity } from '../src/ops/capacity.js';
import { sampleQueues } from '../src/pipeline/queues.js';
import { backtest, bucketCounts, forecast, mape, update } from '../src/platform/autoscale/forecast.js';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.js';
import { createPool, type Pool } from '../src/platform/db/pool.js';
import { newId } from '../src/platform/ids.js';
import { deriveKeys } from '../src/platform/security/keys.js';
import { dailyCurve, daySegments, poissonSchedule, seededRandom } from './lib/arrivals.js';
import { clientPool, evidenceUpload, openSchedule, quantile, send, table } from './lib/open-loop.js';
import { startServer, stopServer } from './lib/server.js';
import { seedCitizens } from './lib/volume.js';

const STAGES = ['validate', 'dedupe', 'enrich', 'analyze'] as const;
/** Citizens filing the reports: ~15 each over the bench's three runs and its burst. */
const FILERS = 2000;
const TARGET_AGE = { validate: 2, dedupe: 2, enrich: 2, analyze: 3 } as const;
// Shedding off: this benchmark measures the pools, and a refused submission would never reach them.
const NO_SHEDDING = {
  SHED_PUBLIC_DELAY_MS: '0',
  SHED_READS_DELAY_MS: '0',
  SHED_WRITES_DELAY_MS: '0',
  SHED_PUBLIC_UTILISATION: '0',
};
const REPLAY = path.resolve(import.meta.dirname, 'data', 'nyc-collisions-2022-01.csv');

export interface AutoscaleBenchOptions {
  minutes: number;
  rate: number;
  spike: number;
  spikeSeconds: number;
  burst: number;
  seed: number;
}

interface RunResult {
  name: string;
  workers: string;
  ageP95: Record<string, number>;
  ageMax: Record<string, number>;
  idle: Record<string, number>;
  workersRange: Record<string, string>;
  latencyP95: number;
  sent: number;
  errors: number;
}

/**
 * `npm run bench -- autoscale`: a real day's arrival curve (NYC collisions per hour, compressed into minutes) with a
 * 10× spike, submitted to `jarima start` three times — the autoscaler as it starts by default (quiet stages in
 * batches), the autoscaler with standing pools only, then fixed pools sized for the mean rate — measuring each
 * stage's queue age (p95 of the oldest waiting report, sampled every 250 ms), the idle share of the workers (worker
 * time held, as the server accrues it, not spent on items), and 202 → review latency. Then the forecaster on a
 * held-out day of the same log, and `jarima capacity`'s ceiling against a measured burst and the highest steady rate
 * the installation keeps up with.
 */
export async function autoscaleBench(o: AutoscaleBenchOptions): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'jarima-bench-scale-'));
  const db = await startEmbeddedPostgres({ dir: path.join(tmp, 'pg') });
  const pool = createPool(db.url, 6);
  const procs: ChildProcess[] = [];
  try {
    await prepareDatabase(pool);
    const secret = randomBytes(32).toString('hex');
    const keys = deriveKeys(secret);
    const curve = dailyCurve(REPLAY);
    const seconds = o.minutes * 60;
    // The spike starts at the busiest hour of the compressed day.
    const day = daySegments(curve, seconds, o.rate);
    const busiest = curve.indexOf(Math.max(...curve));
    const segments = [
      ...day.slice(0, busiest),
      { seconds: o.spikeSeconds, rate: o.rate * o.spike },
      ...day.slice(busiest),
    ];
    const schedule = poissonSchedule(segments, [1], seededRandom(o.seed));
    console.log(
      `day: ${path.basename(REPLAY)} per hour (${Math.min(...curve).toFixed(2)}–${Math.max(...curve).toFixed(2)} × the mean) ` +
        `over ${seconds} s at a mean of ${o.rate}/s, a ${o.spike}× spike for ${o.spikeSeconds} s at the busiest hour: ` +
        `${schedule.dueMs.length} reports per run; target queue ages ${JSON.stringify(TARGET_AGE)} s`,
    );
    console.log('uploading 100 distinct photos; each report gets a copy of one (its own evidence row) …');
    const uploaders = await seedCitizensAndPhotos(pool, keys.token, { url: db.url, secret, tmp });
    // The reports are filed by many citizens (a few each, as in life), each naming a copy of an uploaded photo.
    const photos = uploaders.flatMap((c) => c.photos);
    const citizens: Citizens = (await seedCitizens(pool, keys.token, FILERS)).map((c) => ({ ...c, photos }));

    const results: RunResult[] = [];
    // The machine's background CPU, for capacity's CPU per report: a while with the server up and no reports.
    const idle = await startServer({
      ...baseEnv(db.url, secret, tmp),
      JARIMA_WORKERS: 'validate:1,dedupe:1,enrich:1,analyze:1',
    });
    procs.push(idle.proc);
    console.log('measuring the idle machine for 40 s …');
    await new Promise((r) => setTimeout(r, 40_000));
    await stopServer(idle.proc);
    // The autoscaler as it starts by default (quiet stages in batches, a report waiting up to 1 % of its stage's
    // target age for its batch: AUTOSCALE_BATCH_HOLD_SHARE), then with a standing worker at least per stage (the
    // setting at 0; the default until 2026-11-28), then fixed pools.
    for (const run of ['autoscaler', 'pools', 'fixed'] as const) {
      // Fixed pools are sized from the service times the autoscaler's runs measured.
      const workers =
        run === 'fixed' ? await fixedForMean(pool, o.rate) : 'validate:1,dedupe:1,enrich:1,analyze:1';
      const started = await startServer({
        DATABASE_URL: db.url,
        JARIMA_SECRET: secret,
        JARIMA_DATA_DIR: path.join(tmp, 'data'),
        PORT: '0',
        LOG_LEVEL: 'warn',
        JARIMA_WORKERS: workers,
        AUTOSCALE: run === 'fixed' ? 'false' : 'true',
        ...(run === 'pools' ? { AUTOSCALE_BATCH_HOLD_SHARE: '0' } : {}),
        AUTOSCALE_INTERVAL_SECONDS: '2',
        // Capacity measurements every 5 s, so a run of minutes gives `jarima capacity` enough points.
        OPS_POINT_SECONDS: '5',
        AUTOSCALE_DOWN_AFTER: '3',
        AUTOSCALE_TARGET_AGE_SECONDS: Object.entries(TARGET_AGE)
          .map(([s, t]) => `${s}:${t}`)
          .join(','),
        RATE_LIMIT_SUBMIT_PER_MINUTE: '1000000',
        ...NO_SHEDDING,
      });
      procs.push(started.proc);
      const evidence = await cloneEvidence(pool, citizens, schedule.dueMs.length);
      const result = await measureRun(
        run,
        workers,
        started.url,
        pool,
        schedule.dueMs,
        evidence,
        citizens,
        results.length,
      );
      results.push(result);
      await stopServer(started.proc);
    }
    console.log(
      `\n${table(
        [
          'stage',
          'target s',
          ...results.flatMap((r) => [`${r.name}: age p95 s`, 'max s', 'workers', 'idle']),
        ],
        STAGES.map((s) => [
          s,
          TARGET_AGE[s],
          ...results.flatMap((r) => [
            r.ageP95[s]!.toFixed(2),
            r.ageMax[s]!.toFixed(1),
            r.workersRange[s]!,
            `${(100 * r.idle[s]!).toFixed(0)} %`,
          ]),
        ]),
      )}`,
    );
    for (const r of results)
      console.log(
        `${r.name} (${r.workers}): ${r.sent} reports, ${r.errors} errors; 202 → review p95 ${r.latencyP95.toFixed(0)} ms`,
      );

    forecastAccuracy();
    await capacityCheck(
      pool,
      {
        DATABASE_URL: db.url,
        JARIMA_SECRET: secret,
        JARIMA_DATA_DIR: path.join(tmp, 'data'),
        PORT: '0',
        LOG_LEVEL: 'warn',
        AUTOSCALE: 'false',
        RATE_LIMIT_SUBMIT_PER_MINUTE: '1000000',
        // Capacity measurements every 5 s, so the steady ramp's steps are measured as the runs were.
        OPS_POINT_SECONDS: '5',
        ...NO_SHEDDING,
      },
      citizens,
      o.burst,
      procs,
    );
  } finally {
    for (const p of procs) await stopServer(p);
    await pool.end();
    await db.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

type Citizens = { id: string; token: string; photos: string[] }[];

function baseEnv(url: string, secret: string, tmp: string): Record<string, string> {
  return {
    DATABASE_URL: url,
    JARIMA_SECRET: secret,
    JARIMA_DATA_DIR: path.join(tmp, 'data'),
    PORT: '0',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_SUBMIT_PER_MINUTE: '1000000',
    OPS_POINT_SECONDS: '5',
    ...NO_SHEDDING,
  };
}

/** 20 citizens, 100 photos uploaded through the API (so each is analysed as a real upload is). */
async function seedCitizensAndPhotos(
  pool: Pool,
  tokenKey: Buffer,
  env: { url: string; secret: string; tmp: string },
): Promise<Citizens> {
  const { secret, tmp } = env;
  const started = await startServer({
    DATABASE_URL: env.url,
    JARIMA_SECRET: secret,
    JARIMA_DATA_DIR: path.join(tmp, 'data'),
    PORT: '0',
    LOG_LEVEL: 'warn',
    JARIMA_WORKERS: 'none',
    RATE_LIMIT_SUBMIT_PER_MINUTE: '1000000',
    ...NO_SHEDDING,
  });
  try {
    const ids = Array.from({ length: 20 }, () => newId());
    const tokens = await issueSessionTokens(
      pool,
      tokenKey,
      ids.map((id) => ({ id, role: 'citizen' as const })),
      6 * 3600,
    );
    const citizens: Citizens = ids.map((id, i) => ({ id, token: tokens[i]!, photos: [] }));
    await pool.query(
      `insert into citizens (id, phone_hash, phone_enc)
       select id, decode(md5(id::text) || md5(id::text || 'x'), 'hex'), decode(md5(id::text), 'hex') from unnest($1::uuid[]) id`,
      [citizens.map((c) => c.id)],
    );
    const http = clientPool(started.url, 8);
    for (let i = 0; i < 100; i++) {
      const c = citizens[i % citizens.length]!;
      const r = () => Math.floor(Math.random() * 255);
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720"><rect width="1280" height="720" fill="rgb(${r()},${r()},${r()})"/><circle cx="${r() * 4}" cy="${r() * 2}" r="${80 + r() / 2}" fill="rgb(${r()},${r()},${r()})"/><rect x="${r() * 2}" y="${r()}" width="${120 + r()}" height="${80 + r()}" fill="rgb(${r()},${r()},${r()})"/></svg>`;
      const photo = await sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer();
      const res = await send(http, evidenceUpload(c.token, photo, `p${i}.jpg`));
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.text}`);
      c.photos.push((JSON.parse(res.text) as { id: string }).id);
    }
    await http.close();
    return citizens;
  } finally {
    await stopServer(started.proc);
  }
}

/**
 * Evidence for `n` reports: a copy of an uploaded photo's row per report (its analysis included, a fresh hash, so
 * no two reports share evidence and the near-identical search sees distinct pictures), owned by the photo's citizen.
 */
async function cloneEvidence(
  pool: Pool,
  citizens: Citizens,
  n: number,
): Promise<{ citizen: number; id: string }[]> {
  const out = Array.from({ length: n }, (_, i) => ({ citizen: i % citizens.length, id: newId() }));
  const sources = out.map((e, i) => {
    const photos = citizens[e.citizen]!.photos;
    return photos[i % photos.length]!;
  });
  await pool.query(
    `insert into evidence (id, sha256, kind, mime, bytes, readable, problem, width, height, duration_ms, codec, taken_at,
                           gps_lat, gps_lon, camera, analyzed_at, sharpness, brightness, phash, thumb_sha256, poster_sha256)
     select n.id, decode(md5(n.id::text) || md5(n.id::text || 's'), 'hex'), e.kind, e.mime, e.bytes, e.readable, e.problem,
            e.width, e.height, e.duration_ms, e.codec, e.taken_at, e.gps_lat, e.gps_lon, e.camera, e.analyzed_at,
            e.sharpness, e.brightness, (('x' || substr(md5(n.id::text), 1, 16))::bit(64))::text, e.thumb_sha256,
            e.poster_sha256
       from unnest($1::uuid[], $2::uuid[]) as n(id, source) join evidence e on e.id = n.source`,
    [out.map((e) => e.id), sources],
  );
  await pool.query(
    'insert into evidence_uploads (citizen_id, evidence_id) select * from unnest($1::uuid[], $2::uuid[])',
    [out.map((e) => citizens[e.citizen]!.id), out.map((e) => e.id)],
  );
  return out;
}

/** Fixed pools sized for the mean rate, from the service times the autoscaler run measured (λ·S / 0.7, at least 1). */
async function fixedForMean(pool: Pool, rate: number): Promise<string> {
  const measured = await loadMeasurements(pool);
  return STAGES.map((s) => {
    const service = measured[`service_seconds:${s}`]?.value ?? BENCHMARK.serviceSeconds[s]!;
    return `${s}:${Math.max(1, Math.ceil((rate * service) / 0.7))}`;
  }).join(',');
}

async function measureRun(
  name: string,
  workers: string,
  url: string,
  pool: Pool,
  dueMs: Float64Array,
  evidence: { citizen: number; id: string }[],
  citizens: Citizens,
  runIndex: number,
): Promise<RunResult> {
  const http = clientPool(url, 64);
  const ages: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
  const workerSamples: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
  const metric = async () => (await send(http, { method: 'GET', path: '/metrics', headers: {} })).text;
  const serviceSum = (text: string, stage: string) =>
    Number(
      new RegExp(`jarima_stage_service_seconds_sum\\{stage="${stage}"\\} ([\\d.e+-]+)`).exec(text)?.[1] ?? 0,
    );
  const workersOf = (text: string, stage: string) =>
    Number(new RegExp(`jarima_stage_workers\\{stage="${stage}"\\} ([\\d.e+-]+)`).exec(text)?.[1] ?? 0);
  // Worker time as the server accrues it (pool size × time, a batch's duration): sampling the gauge misses batches.
  const workerSeconds = (text: string, stage: string) =>
    Number(
      new RegExp(`jarima_stage_worker_seconds_total\\{stage="${stage}"\\} ([\\d.e+-]+)`).exec(text)?.[1] ?? 0,
    );
  const before = await metric();
  let sampling = true;

  let tick = 0;
  let text = before;
  const sampler = (async () => {
    while (sampling) {
      // Queues every 250 ms (one indexed query); the server's metrics every second (a scrape costs it CPU).
      const q = await sampleQueues(pool);
      if (tick++ % 4 === 0) text = await metric();
      for (const s of STAGES) {
        ages[s]!.push(q[s]?.oldestAgeSeconds ?? 0);
        workerSamples[s]!.push(workersOf(text, s));
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const startedAt = new Date();
  const result = await openSchedule({
    dueMs,
    // Plates differ between runs too, or the second run's reports would be the first run's duplicates.
    act: (i) => submit(http, runIndex * 100_000 + i, evidence[i]!.id, citizens[evidence[i]!.citizen]!.token),
  });
  await drained(pool);
  sampling = false;
  await sampler;
  const after = await metric();
  const latencies = await reviewLatencies(pool, startedAt);
  const p95 = (xs: number[]) =>
    quantile(
      [...xs].sort((a, b) => a - b),
      0.95,
    );
  await http.close();
  return {
    name,
    workers,
    sent: dueMs.length,
    errors: [...result.status].filter((st) => st !== 202).length,
    ageP95: Object.fromEntries(STAGES.map((s) => [s, p95(ages[s]!)])),
    ageMax: Object.fromEntries(STAGES.map((s) => [s, Math.max(0, ...ages[s]!)])),
    idle: Object.fromEntries(
      STAGES.map((s) => {
        const busy = serviceSum(after, s) - serviceSum(before, s);
        const held = workerSeconds(after, s) - workerSeconds(before, s);
        return [s, held > 0 ? Math.max(0, 1 - busy / held) : 0];
      }),
    ),
    workersRange: Object.fromEntries(
      STAGES.map((s) => {
        const w = workerSamples[s]!;
        return [s, `${Math.min(...w)}–${Math.max(...w)}`];
      }),
    ),
    latencyP95: quantile(latencies, 0.95),
  };
}

/** One report naming its own evidence: a distinct plate and place per arrival, so dedupe finds no duplicates. */
function submit(http: ReturnType<typeof clientPool>, i: number, evidenceId: string, token: string) {
  return send(http, {
    method: 'POST',
    path: '/v1/reports',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      violationCode: '128-6.1',
      plate: `${String(10 + (i % 80)).padStart(2, '0')} A ${String(i % 1000).padStart(3, '0')} ${String.fromCharCode(65 + (((i / 1000) % 26) | 0))}${String.fromCharCode(65 + (((i / 26_000) | 0) % 26))}`,
      lat: 41.2 + (i % 97) / 1000,
      lon: 69.2 + (i % 89) / 1000,
      incidentAt: new Date(Date.now() - 20 * 60_000).toISOString(),
      evidenceIds: [evidenceId],
    }),
  });
}

/** 202 → awaiting review, in ms, of every report submitted since `since`, ascending. */
async function reviewLatencies(pool: Pool, since: Date): Promise<number[]> {
  const { rows } = await pool.query<{ ms: number }>(
    `select extract(epoch from (a.at - s.at)) * 1000 as ms
       from report_events s join report_events a on a.report_id = s.report_id and a.to_status = 'awaiting_review'
      where s.type = 'submitted' and s.at >= $1 order by 1`,
    [since],
  );
  return rows.map((r) => r.ms);
}

/** Until every report has left the automated stages. */
async function drained(pool: Pool): Promise<void> {
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from reports where status in ('received', 'validated', 'deduplicated', 'enriched')`,
    );
    if (rows[0]!.n === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The forecaster on the replay log: fitted on all days but the last, scored on the last — a day ahead (the whole day
 * forecast at midnight), and an hour ahead as it runs (DemandForecaster refits every hour: here the fitted model
 * takes in each hour's count before forecasting the next), in hourly and 3-hour buckets and per day. Beside each,
 * the error a perfect model of the rate would still make on counts this small (Poisson noise). Then the same shape
 * at this platform's volumes: counts drawn from the log's hour-of-day and day-of-week profile scaled to N a day.
 */
function forecastAccuracy(): void {
  const lines = readLines(REPLAY);
  const times: Date[] = [];
  for (const line of lines.slice(1)) {
    const [date, time] = line.split(',', 2);
    const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(date ?? '');
    const t = /^(\d{1,2}):(\d{2})$/.exec(time ?? '');
    if (m && t) times.push(new Date(Date.UTC(+m[3]!, +m[1]! - 1, +m[2]!, +t[1]!, +t[2]!)));
  }
  const start = new Date(Date.UTC(2022, 0, 1));
  const hourly = bucketCounts(times, start, 3_600_000, 31 * 24);
  const threeHourly = bucketCounts(times, start, 3 * 3_600_000, 31 * 8);
  const daily = bucketCounts(times, start, 86_400_000, 31);
  const rows: (string | number)[][] = [
    scoreRow('hour', hourly, 24, 24),
    scoreRow('3 hours', threeHourly, 8, 8),
    scoreRow('day (last 3 days held out)', daily, 1, 3),
  ];

  // The log's profile: each hour's share of its day, and each weekday's share of the week, from all 31 days.
  const hourShare = Array.from({ length: 24 }, (_, h) =>
    hourly.filter((_, i) => i % 24 === h).reduce((a, b) => a + b, 0),
  );
  const hourSum = hourShare.reduce((a, b) => a + b, 0);
  const weekday = Array.from({ length: 7 }, (_, d) => {
    const days = daily.filter((_, i) => i % 7 === d);
    return days.reduce((a, b) => a + b, 0) / days.length;
  });
  const weekMean = weekday.reduce((a, b) => a + b, 0) / 7;
  const random = seededRandom(7);
  for (const perDay of [1_342, 50_000]) {
    const counts = Array.from({ length: 31 * 24 }, (_, i) =>
      poissonSample(
        perDay * (weekday[Math.floor(i / 24) % 7]! / weekMean) * (hourShare[i % 24]! / hourSum),
        random,
      ),
    );
    rows.push(scoreRow(`hour, the log's shape at ${perDay.toLocaleString('en')} a day`, counts, 24, 24));
  }
  console.log(
    `\nforecaster (${path.basename(REPLAY)}, fitted on the days before, scored on the last; error = Σ|actual − forecast| / Σ actual; ` +
      'noise floor = the error of the true rate itself, Σ E|N − μ| / Σ μ for Poisson counts N of mean μ = the actual counts):',
  );
  console.log(table(['buckets', 'model', 'day ahead', 'hour ahead', 'noise floor'], rows));
}

/** Day-ahead and one-bucket-ahead (updated with each actual) error over the last `holdout` buckets, and the floor. */
function scoreRow(
  label: string,
  series: number[],
  bucketsPerDay: number,
  holdout: number,
): (string | number)[] {
  const ahead = backtest(series, { bucketsPerDay, holdoutBuckets: holdout });
  let model = ahead.model;
  const stepwise: number[] = [];
  for (const actual of ahead.actual) {
    stepwise.push(forecast(model, 1)[0]!);
    model = update(model, actual);
  }
  const floor =
    ahead.actual.reduce((a, mu) => a + poissonMeanAbsDeviation(mu), 0) /
    ahead.actual.reduce((a, b) => a + b, 0);
  return [
    label,
    ahead.model.kind,
    `${ahead.mape.toFixed(1)} %`,
    `${mape(ahead.actual, stepwise).toFixed(1)} %`,
    `${(100 * floor).toFixed(1)} %`,
  ];
}

/** E|N − μ| for N ~ Poisson(μ): 2·e^(−μ)·μ^(k+1)/k! with k = ⌊μ⌋ (in logs, for large μ). */
function poissonMeanAbsDeviation(mu: number): number {
  if (mu <= 0) return 0;
  const k = Math.floor(mu);
  let logFactorial = 0;
  for (let i = 2; i <= k; i++) logFactorial += Math.log(i);
  return 2 * Math.exp(-mu + (k + 1) * Math.log(mu) - logFactorial);
}

function poissonSample(mean: number, random: () => number): number {
  if (mean > 500) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)));
  let k = 0;
  let p = Math.exp(-mean);
  let sum = p;
  const u = random();
  while (u > sum && k < 10_000) {
    k++;
    p *= mean / k;
    sum += p;
  }
  return k;
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function readLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n');
}

/**
 * `jarima capacity`'s ceiling for this machine — cores ÷ the CPU per report this installation measured — against
 * what the machine carries: a burst of `burst` reports submitted at once (from the first 202 to the last report in
 * the review queue), and the highest steady rate kept up with (sustainedMaximum). The ceiling is taken twice: from
 * what the runs measured (loads up to the spike's), and again after the steady ramp has run the installation near
 * its maximum, then checked against a second burst that it has not seen.
 */
async function capacityCheck(
  pool: Pool,
  env: Record<string, string>,
  citizens: Citizens,
  burst: number,
  procs: ChildProcess[],
): Promise<void> {
  const plan = async () => {
    const measured = await loadMeasurements(pool);
    const p = planCapacity({
      daily: 1,
      peakFactor: 1,
      targetP95: 1,
      measured,
      cacheMb: 256,
      cores: os.availableParallelism(),
      memoryBytes: os.totalmem(),
    });
    return {
      measured,
      ceiling: p.thisMachine.maxReportsPerSecond,
      cpu: p.cpuSecondsPerReport,
      other: p.thisMachine.otherCores,
    };
  };
  const light = await plan();
  // Pools free to grow (the autoscaler, every second), so the machine's CPU, not a pool size, is the limit.
  const started = await startServer({
    ...env,
    JARIMA_WORKERS: 'validate:2,dedupe:2,enrich:2,analyze:2',
    AUTOSCALE: 'true',
    AUTOSCALE_INTERVAL_SECONDS: '1',
  });
  procs.push(started.proc);
  const http = clientPool(started.url, 64);
  // Plates of their own (the runs used 0…, 100,000… and 200,000…), or the bursts would be the runs' duplicates.
  const first = await measureBurst(pool, http, citizens, burst, 900_000);
  const sustained = await sustainedMaximum(pool, http, citizens, first.rate);
  // The server writes its measurements every 5 s (OPS_POINT_SECONDS): the ramp's last interval lands first.
  await new Promise((r) => setTimeout(r, 6000));
  const loaded = await plan();
  const second = await measureBurst(pool, http, citizens, burst, 910_000);
  await http.close();
  await stopServer(started.proc);
  const off = (predicted: number, measured: number) =>
    `${measured.toFixed(0)}/s: ${((100 * (predicted - measured)) / Math.max(1, measured)).toFixed(0)} % off`;
  for (const [when, p, burstOf] of [
    ['from the runs', light, first],
    ['after the steady ramp', loaded, second],
  ] as const)
    console.log(
      `\ncapacity ${when}: CPU per report ${(p.cpu.value * 1000).toFixed(2)} ms (${p.cpu.source}); other processes' ` +
        `cores ${p.other.toFixed(2)} → this machine's ceiling ${p.ceiling.toFixed(0)} reports/s (target within 20 %). ` +
        `Highest steady rate kept up with ${off(p.ceiling, sustained.rate)}; a burst of ${burst} ` +
        `${off(p.ceiling, burstOf.rate)} (the machine ${(100 * burstOf.busy).toFixed(0)} % busy, ${burstOf.earlier} ` +
        'reports already in the database)',
    );
  console.log(
    `\nsteady ramp (each step ${STEP_SECONDS} s; kept up with = all accepted and 202 → review p95 within ` +
      `${Math.max(...Object.values(TARGET_AGE))} s):`,
  );
  console.log(
    table(
      ['offered /s', 'accepted /s', '202 → review p50 ms', 'p95 ms', 'machine busy', ''],
      sustained.steps,
    ),
  );
  const measured = loaded.measured;
  // The bands capacity reads (src/ops/capacity.ts): load, transactions per report, CPU per report.
  const bands = Object.keys(measured)
    .map((k) => /^cpu_band:(\d+):reports$/.exec(k)?.[1])
    .filter((b): b is string => b !== undefined)
    .sort((a, b) => Number(a) - Number(b))
    .map((b) => {
      const v = (n: string) => measured[`cpu_band:${b}:${n}`]?.value ?? 0;
      return [
        `${2 ** Number(b)}–${2 ** (Number(b) + 1)}`,
        v('seconds').toFixed(0),
        (v('reports') / Math.max(1, v('seconds'))).toFixed(1),
        v('reports').toFixed(0),
        (v('transactions') / Math.max(1, v('reports'))).toFixed(2),
        ((1000 * v('cpu')) / Math.max(1, v('reports'))).toFixed(2),
      ];
    });
  console.log(
    table(
      ['band /s', 'seconds', 'reports/s', 'reports', 'transactions per report', 'CPU ms per report'],
      bands,
    ),
  );
  const services = Object.entries(measured)
    .filter(([k]) => k.startsWith('service_seconds:'))
    .map(([k, v]) => `${k.slice(16)} ${(v.value * 1000).toFixed(2)} ms (${v.samples})`);
  console.log(`measured worker time per report: ${services.join(', ')}`);
}

/** `n` reports submitted at once: the rate from the first 202 to the last report in review, and how busy the machine ran. */
async function measureBurst(
  pool: Pool,
  http: ReturnType<typeof clientPool>,
  citizens: Citizens,
  n: number,
  plates: number,
): Promise<{ rate: number; busy: number; earlier: number }> {
  const evidence = await cloneEvidence(pool, citizens, n);
  const earlier = (await pool.query<{ n: number }>('select count(*)::int as n from reports')).rows[0]!.n;
  const cpu0 = machineBusySeconds();
  const t0 = new Date();
  await Promise.all(evidence.map((e, i) => submit(http, plates + i, e.id, citizens[e.citizen]!.token)));
  await drained(pool);
  const { rows } = await pool.query<{ seconds: number }>(
    `select extract(epoch from max(at) - $1::timestamptz) as seconds from report_events
      where to_status = 'awaiting_review' and at >= $1`,
    [t0],
  );
  // How full the machine ran (every process: the installation, the load generator, the sampling): a ceiling at
  // full CPU is only reached if the burst is CPU-bound.
  const busy = (machineBusySeconds() - cpu0) / ((Date.now() - t0.getTime()) / 1000) / os.cpus().length;
  return { rate: n / rows[0]!.seconds, busy, earlier };
}

/** Seconds each step of the sustained ramp offers its rate. */
const STEP_SECONDS = 20;

/**
 * The highest steady arrival rate the installation keeps up with: Poisson arrivals for STEP_SECONDS at rising
 * fractions of the burst's drain rate, until a step's reports are no longer all accepted or their 202 → review p95
 * passes the largest stage target (3 s: an overloaded pipeline's backlog, and so its latency, grows for the whole
 * step). Each step starts on an empty pipeline.
 */
async function sustainedMaximum(
  pool: Pool,
  http: ReturnType<typeof clientPool>,
  citizens: Citizens,
  burstRate: number,
): Promise<{ rate: number; steps: (string | number)[][] }> {
  const limit = Math.max(...Object.values(TARGET_AGE)) * 1000;
  const steps: (string | number)[][] = [];
  let kept = 0;
  let offset = 300_000; // plates of their own: the runs used 0…, 100,000… and 200,000…, the burst 900,000…
  for (const [k, share] of [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2].entries()) {
    const rate = Math.round(share * burstRate);
    const schedule = poissonSchedule([{ seconds: STEP_SECONDS, rate }], [1], seededRandom(1000 + k));
    const evidence = await cloneEvidence(pool, citizens, schedule.dueMs.length);
    const base = offset;
    offset += evidence.length;
    const cpu0 = machineBusySeconds();
    const t0 = new Date();
    const result = await openSchedule({
      dueMs: schedule.dueMs,
      act: (i) => submit(http, base + i, evidence[i]!.id, citizens[evidence[i]!.citizen]!.token),
    });
    const sendSeconds = result.elapsedMs / 1000;
    const busy = (machineBusySeconds() - cpu0) / sendSeconds / os.cpus().length;
    await drained(pool);
    const ms = await reviewLatencies(pool, t0);
    const accepted = [...result.status].filter((st) => st === 202).length;
    const p95 = quantile(ms, 0.95);
    const ok = accepted === schedule.dueMs.length && p95 <= limit;
    steps.push([
      rate,
      (accepted / sendSeconds).toFixed(0),
      quantile(ms, 0.5).toFixed(0),
      p95.toFixed(0),
      `${(100 * busy).toFixed(0)} %`,
      ok ? 'kept up' : 'fell behind',
    ]);
    if (!ok) break;
    kept = rate;
  }
  return { rate: kept, steps };
}

/** CPU seconds every core of the machine has spent busy since boot (/proc/stat's first line, USER_HZ ticks). */
function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100;
}
