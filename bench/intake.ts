import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareDatabase } from '../src/app/setup.js';
import { issueSessionTokens } from '../src/auth/sessions.js';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.js';
import { createPool } from '../src/platform/db/pool.js';
import { newId } from '../src/platform/ids.js';
import { deriveKeys } from '../src/platform/security/keys.js';
import { clientPool, type OpenLoopResult, openLoop, table } from './lib/open-loop.js';
import { rawInsertCommitsPerSecond } from './lib/raw-insert.js';
import { startServer, stopServer } from './lib/server.js';

export interface IntakeBenchOptions {
  rates: number[];
  seconds: number;
  workers: number;
  citizens: number;
}

/**
 * `npm run bench -- intake`: POST /v1/reports at constant arrival rates against a `jarima start` process on a
 * fresh embedded PostgreSQL, beside the raw single-row commit rate of the same server.
 */
export async function intakeBench(o: IntakeBenchOptions): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'jarima-bench-'));
  const db = await startEmbeddedPostgres({ dir: path.join(tmp, 'pg') });
  let child: ChildProcess | undefined;
  try {
    const pool = createPool(db.url, 10);
    await prepareDatabase(pool);
    console.log('measuring raw single-row INSERT commits/s (10 connections, 5 s) …');
    const raw = await rawInsertCommitsPerSecond(db.url, 10, 5);
    console.log(`raw: ${raw.toFixed(0)} commits/s`);

    const secret = randomBytes(32).toString('hex');
    const keys = deriveKeys(secret);
    const citizens = Array.from({ length: o.citizens }, () => ({ id: newId(), evidence: newId() }));
    await pool
      .query(
        `insert into citizens (id, phone_hash, phone_enc) select id, gen_random_bytes(32), gen_random_bytes(40) from unnest($1::uuid[]) id`,
        [citizens.map((c) => c.id)],
      )
      .catch(async () => {
        // gen_random_bytes needs pgcrypto; fall back to md5-based bytes.
        await pool.query(
          `insert into citizens (id, phone_hash, phone_enc)
         select id, decode(md5(id::text) || md5(id::text || 'x'), 'hex'), decode(md5(id::text), 'hex') from unnest($1::uuid[]) id`,
          [citizens.map((c) => c.id)],
        );
      });
    await pool.query(
      `insert into evidence (id, sha256, kind, mime, bytes)
       select e, decode(md5(e::text) || md5(e::text || 'y'), 'hex'), 'photo', 'image/jpeg', 250000 from unnest($1::uuid[]) e`,
      [citizens.map((c) => c.evidence)],
    );
    await pool.query(
      `insert into evidence_uploads (citizen_id, evidence_id) select * from unnest($1::uuid[], $2::uuid[])`,
      [citizens.map((c) => c.id), citizens.map((c) => c.evidence)],
    );
    const tokens = await issueSessionTokens(
      pool,
      keys.token,
      citizens.map((c) => ({ id: c.id, role: 'citizen' as const })),
      3600,
    );

    const { url, proc } = await startServer({
      DATABASE_URL: db.url,
      JARIMA_SECRET: secret,
      JARIMA_DATA_DIR: path.join(tmp, 'data'),
      PORT: '0',
      LOG_LEVEL: 'warn',
      JARIMA_WORKERS: o.workers ? `validate:${o.workers},dedupe:1,enrich:1,analyze:2` : 'none',
      RATE_LIMIT_SUBMIT_PER_MINUTE: '1000000',
    });
    child = proc;
    const incidentAt = new Date(Date.now() - 600_000).toISOString();
    const next = (i: number) => {
      const c = i % citizens.length;
      return {
        method: 'POST' as const,
        path: '/v1/reports',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[c]}` },
        body: JSON.stringify({
          violationCode: '128-6.1',
          plate: '01 A 123 BC',
          lat: 41.3 + (i % 100) / 1000,
          lon: 69.24 + (i % 77) / 1000,
          incidentAt,
          description: `bench ${i}`,
          evidenceIds: [citizens[c]!.evidence],
        }),
      };
    };
    // One client pool for every step; the warm-up opens its connections and warms the server's JIT.
    const http = clientPool(url, 128);
    console.log('warming up (500/s then 1500/s, 2 s each) …');
    await openLoop({ pool: http, rate: 500, seconds: 2, okStatus: 202, next });
    await openLoop({ pool: http, rate: 1500, seconds: 2, okStatus: 202, next });

    const results: OpenLoopResult[] = [];
    let failures = 0;
    for (const rate of o.rates) {
      const r = await openLoop({ pool: http, rate, seconds: o.seconds, okStatus: 202, next });
      results.push(r);
      console.log(
        `  ${rate}/s → ${r.achieved.toFixed(0)}/s, p99 ${r.p99.toFixed(1)} ms, errors ${r.errors}${r.errorSamples.length ? ` (${r.errorSamples[0]})` : ''}`,
      );
      if (r.p99 >= 50 || r.errors > 0) failures++;
      if (failures >= 2) break;
    }

    await http.close();
    const { rows } = await pool.query<{ reports: number; transactions: number; jobs: number }>(
      `select count(*)::int as reports, count(distinct xmin::text)::int as transactions,
              (select count(*)::int from graphile_worker.jobs) as jobs from reports`,
    );
    const { rows: byStatus } = await pool.query<{ status: string; n: number }>(
      'select status, count(*)::int as n from reports group by status order by status',
    );
    await pool.end();
    const accepted = results.reduce((s, r) => s + r.ok, 0);
    const best = results
      .filter((r) => r.p99 < 50 && r.errors === 0)
      .sort((a, b) => b.achieved - a.achieved)[0];

    console.log('');
    console.log(
      `machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    console.log(`raw PostgreSQL single-row durable INSERT commits/s (10 connections): ${raw.toFixed(0)}`);
    console.log(
      `intake: POST /v1/reports, open model, ${o.seconds} s per step, workers in server: ${o.workers}`,
    );
    console.log(
      table(
        ['target/s', 'achieved/s', '% of raw', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors'],
        results.map((r) => [
          r.rate,
          r.achieved.toFixed(0),
          `${((100 * r.achieved) / raw).toFixed(0)} %`,
          r.p50.toFixed(1),
          r.p95.toFixed(1),
          r.p99.toFixed(1),
          r.max.toFixed(0),
          r.errors,
        ]),
      ),
    );
    console.log(
      `stored reports: ${rows[0]!.reports} (202s answered incl. warm-up: ≥ ${accepted}); transactions: ${rows[0]!.transactions} ` +
        `(avg ${(rows[0]!.reports / rows[0]!.transactions).toFixed(1)} reports per commit); queued jobs: ${rows[0]!.jobs}`,
    );
    console.log(`reports by status at the end: ${byStatus.map((r) => `${r.status} ${r.n}`).join(', ')}`);
    console.log(
      best
        ? `best sustained with p99 < 50 ms and no errors: ${best.achieved.toFixed(0)}/s = ${((100 * best.achieved) / raw).toFixed(0)} % of raw (target ≥ 30 %)`
        : 'no step met p99 < 50 ms with no errors',
    );
  } finally {
    await stopServer(child);
    await db.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}
