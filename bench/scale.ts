import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { prepareDatabase } from '../src/app/setup.js';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.js';
import { createPool } from '../src/platform/db/pool.js';
import { deriveKeys } from '../src/platform/security/keys.js';
import { startHaproxy } from '../test/helpers/haproxy.js';
import { runS3rver } from '../test/helpers/s3-server.js';
import { cpuPerUnit, type ProcessGroup, treeCpuSeconds } from './lib/cpu.js';
import { clientPool, evidenceUpload, openLoop, send, table } from './lib/open-loop.js';
import { startServer, startWorkerProcess, stopServer } from './lib/server.js';
import { seedCitizens } from './lib/volume.js';
import { latencies, makePhotos, waitAllDone } from './pipeline.js';

export type Shape = 'one-local' | 'one-s3' | 'cluster-s3';
export const SHAPES: Shape[] = ['one-local', 'one-s3', 'cluster-s3'];

const WORKERS = 'validate:2,dedupe:1,enrich:1,analyze:2,forward:1,notify:1,payout:1';
/** The same pools over two worker processes. */
const HALF_WORKERS = 'validate:1,dedupe:1,enrich:1,analyze:1,forward:1,notify:1,payout:1';

/**
 * `npm run bench -- scale`: the cost of statelessness. The pipeline benchmark's arrivals (each uploads a distinct
 * 640×480 photo and files a report naming it), sent through HAProxy to: one `jarima start` on the local directory,
 * the same on an S3-compatible store (s3rver in its own process), and two `jarima api` + two `jarima worker`
 * processes with data directories of their own sharing PostgreSQL, Redis and the store. On one 2-core machine the
 * cluster cannot be faster; what is measured is what each shape costs per report.
 */
export async function scaleBench(o: { rate: number; seconds: number; warmup: number; shapes: Shape[] }) {
  const redisUrl = process.env.JARIMA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const rows: (string | number)[][] = [];
  for (const shape of o.shapes) {
    console.log(`\n${shape}: ${o.rate} reports/s for ${o.seconds} s (after ${o.warmup} s not measured) …`);
    rows.push(await runShape(shape, o, redisUrl));
  }
  console.log(
    `\nmachine: ${os.cpus()[0]?.model} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  console.log(
    table(
      [
        'shape',
        'achieved/s',
        'errors',
        '202→review p50 ms',
        'p95 ms',
        'CPU ms/report: jarima',
        'postgres',
        'object store',
        'proxy',
        'total',
        'store share',
      ],
      rows,
    ),
  );
}

async function runShape(
  shape: Shape,
  o: { rate: number; seconds: number; warmup: number },
  redisUrl: string,
): Promise<(string | number)[]> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), `jarima-bench-scale-${shape}-`));
  const pgDir = path.join(tmp, 'pg');
  const db = await startEmbeddedPostgres({ dir: pgDir });
  const pool = createPool(db.url, 4);
  const procs: ChildProcess[] = [];
  let s3: Awaited<ReturnType<typeof runS3rver>> | null = null;
  let proxy: ChildProcess | null = null;
  try {
    await prepareDatabase(pool);
    const secret = randomBytes(32).toString('hex');
    const env: Record<string, string> = {
      DATABASE_URL: db.url,
      JARIMA_SECRET: secret,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_SUBMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_AUTH_PER_MINUTE: '100000',
      TRUST_PROXY: '127.0.0.1',
    };
    if (shape !== 'one-local') {
      const bucket = `bench-${randomBytes(3).toString('hex')}`;
      s3 = await runS3rver(path.join(tmp, 's3'), bucket);
      Object.assign(env, {
        BLOB_STORE: 's3',
        S3_BUCKET: bucket,
        S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
        S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
      });
    }
    const backends: string[] = [];
    if (shape === 'cluster-s3') {
      const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
      await probe.connect().finally(() => probe.disconnect());
      Object.assign(env, { REDIS_URL: redisUrl, REDIS_PREFIX: `bench${randomBytes(3).toString('hex')}:` });
      for (const name of ['api-1', 'api-2']) {
        const { proc, url } = await startJarimaApi({
          ...env,
          JARIMA_DATA_DIR: path.join(tmp, name),
          PORT: '0',
        });
        procs.push(proc);
        backends.push(new URL(url).host);
      }
      for (const name of ['worker-1', 'worker-2'])
        procs.push(
          await startWorkerProcess({
            ...env,
            JARIMA_DATA_DIR: path.join(tmp, name),
            JARIMA_WORKERS: HALF_WORKERS,
          }),
        );
    } else {
      const started = await startServer({
        ...env,
        JARIMA_DATA_DIR: path.join(tmp, 'data'),
        PORT: '0',
        JARIMA_WORKERS: WORKERS,
      });
      procs.push(started.proc);
      backends.push(new URL(started.url).host);
    }
    const started = await startHaproxy(tmp, backends, { balance: 'leastconn' });
    proxy = started.proc;
    const url = started.url;

    const http = clientPool(url, 32);
    const citizens = await seedCitizens(pool, deriveKeys(secret).token, 1000);
    const warm = Math.round(o.rate * o.warmup);
    const total = warm + Math.round(o.rate * o.seconds);
    const photos = await makePhotos(total);
    let arrivals = 0;
    const act = async () => {
      const i = arrivals++;
      const token = citizens[i % citizens.length]!.token;
      const up = await send(http, evidenceUpload(token, photos[i]!, `p${i}.jpg`));
      if (up.status !== 201) return up;
      return send(http, {
        method: 'POST',
        path: '/v1/reports',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          violationCode: '128-6.1',
          plate: `${String(10 + (i % 80)).padStart(2, '0')} A ${String(i % 1000).padStart(3, '0')} ${String.fromCharCode(65 + ((i / 1000) | 0))}B`,
          lat: 41.2 + (i % 97) / 1000,
          lon: 69.2 + (i % 89) / 1000,
          incidentAt: new Date(Date.now() - 20 * 60_000).toISOString(),
          evidenceIds: [(JSON.parse(up.text) as { id: string }).id],
        }),
      });
    };
    let warmed = 0;
    if (warm) {
      warmed = (await openLoop({ pool: http, rate: o.rate, seconds: o.warmup, okStatus: 202, act })).ok;
      await waitAllDone(pool, warmed);
    }
    const jarimaPids = new Set(procs.map((p) => p.pid!));
    const groups: Record<string, ProcessGroup> = {
      jarima: { match: (pid) => jarimaPids.has(pid), ownOnly: true },
      postgres: { match: (_, cmd) => cmd.includes(` -D ${pgDir} `), descendants: true },
      store: { match: (pid) => pid === s3?.pid, ownOnly: true },
      proxy: { match: (pid) => pid === proxy?.pid, ownOnly: true },
    };
    const cpu0 = treeCpuSeconds(groups);
    const run = await openLoop({ pool: http, rate: o.rate, seconds: o.seconds, okStatus: 202, act });
    await waitAllDone(pool, warmed + run.ok);
    const cpu1 = treeCpuSeconds(groups);
    const stats = await latencies(pool, warmed, run.ok, true);
    await http.close();
    const per = cpuPerUnit(cpu0, cpu1, run.ok);
    const ms = (k: string) => Number(per[k] ?? 0);
    const totalMs = ms('jarima') + ms('postgres') + ms('store') + ms('proxy');
    return [
      shape,
      (run.ok / o.seconds).toFixed(1),
      run.errors,
      Math.round(stats.p50),
      Math.round(stats.p95),
      ms('jarima').toFixed(2),
      ms('postgres').toFixed(2),
      ms('store').toFixed(2),
      ms('proxy').toFixed(2),
      totalMs.toFixed(2),
      totalMs ? `${((100 * ms('store')) / totalMs).toFixed(0)} %` : '–',
    ];
  } finally {
    proxy?.kill('SIGKILL');
    for (const p of procs) await stopServer(p);
    await s3?.stop();
    await pool.end();
    await db.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

async function startJarimaApi(env: Record<string, string>): Promise<{ proc: ChildProcess; url: string }> {
  const root = path.resolve(import.meta.dirname, '..');
  const proc = spawn(process.execPath, [path.join(root, 'bin/jarima.mjs'), 'api'], {
    env: { ...process.env, AUTOSCALE: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /Jarima is running at (http:\/\/\S+)/.exec(out);
      if (m && out.includes('Press Ctrl-C')) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`jarima api exited ${code}:\n${out}`)));
  });
  return { proc, url };
}
