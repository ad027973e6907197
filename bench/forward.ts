import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { closeDeps, createDeps } from '../src/app/deps.js';
import { prepareDatabase } from '../src/app/setup.js';
import { startWorkers } from '../src/app/worker.js';
import { govRegistryPolicy } from '../src/integrations/gov-registry/config.js';
import { HttpGovRegistry } from '../src/integrations/gov-registry/http-adapter.js';
import { startGovRegistrySimulator } from '../src/integrations/gov-registry/simulator.js';
import { loadConfig } from '../src/platform/config/config.js';
import { startEmbeddedPostgres } from '../src/platform/db/embedded.js';
import { createPool, type Pool } from '../src/platform/db/pool.js';
import { createLogger } from '../src/platform/logger.js';
import { table } from './lib/open-loop.js';

export interface ForwardBenchOptions {
  reports: number;
  errorRates: number[];
  outageSeconds: number;
  workers: number;
}

interface Scenario {
  name: string;
  errorRate: number;
  outageMs: number;
}

/**
 * `npm run bench -- forward`: approved reports forwarded by the real forward stage (graphile-worker pool, HTTP
 * adapter with timeout + retry + breaker + bulkhead) to the registry simulator over real HTTP, at several injected
 * error rates and through an outage. Per scenario: throughput, approval → forwarded latency, what the adapter and
 * the simulator saw, and the two invariants — every report forwarded (none lost) and one case per report (none
 * sent twice).
 */
export async function forwardBench(o: ForwardBenchOptions): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'jarima-bench-forward-'));
  const db = await startEmbeddedPostgres({ dir: path.join(tmp, 'pg') });
  const setup = createPool(db.url, 4);
  const scenarios: Scenario[] = [
    ...o.errorRates.map((e) => ({ name: `${Math.round(e * 100)} % errors`, errorRate: e, outageMs: 0 })),
    { name: `${o.outageSeconds} s outage`, errorRate: 0, outageMs: o.outageSeconds * 1000 },
  ];
  const rows: (string | number)[][] = [];
  try {
    await prepareDatabase(setup);
    for (const s of scenarios) rows.push(await runScenario(db.url, setup, tmp, s, o));
  } finally {
    await setup.end();
    await db.stop();
    await rm(tmp, { recursive: true, force: true });
  }
  console.log(
    `\nmachine: ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}; ${o.reports} approved reports per scenario, forward:${o.workers}`,
  );
  console.log(
    table(
      [
        'scenario',
        'forwarded/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'requests',
        'errors injected',
        'breaker opened',
        'lost',
        'cases created',
        'sent twice',
      ],
      rows,
    ),
  );
}

async function runScenario(
  url: string,
  setup: Pool,
  tmp: string,
  s: Scenario,
  o: ForwardBenchOptions,
): Promise<(string | number)[]> {
  await setup.query(
    `truncate gov_events, notifications, ledger_entries, ledger_transactions, report_events, report_evidence,
       reports, evidence_uploads, evidence, citizens cascade`,
  );
  const ids = await approvedReports(setup, o.reports);
  const secret = randomBytes(32).toString('hex');
  const config = loadConfig({
    DATABASE_URL: url,
    JARIMA_DATA_DIR: path.join(tmp, 'data'),
    LOG_LEVEL: 'silent',
    JARIMA_WORKERS: `forward:${o.workers}`,
    GOV_REGISTRY_TIMEOUT_MS: '2000',
    GOV_REGISTRY_BREAKER_HALF_OPEN_MS: '2000',
  });
  const apiKey = randomBytes(8).toString('hex');
  const sim = await startGovRegistrySimulator({
    apiKey,
    errorRate: s.errorRate,
    latencyMs: 5,
    latencyJitterMs: 10,
    fineAfterMs: null,
    payAfterMs: null,
    outages: s.outageMs ? [{ fromMs: 0, toMs: s.outageMs }] : [],
  });
  const deps = await createDeps(config, {
    databaseUrl: url,
    secret,
    logger: createLogger('silent', false),
    govSimulator: { url: sim.url, apiKey },
  });
  let opened = 0;
  await deps.govRegistry.close();
  deps.govRegistry = new HttpGovRegistry({
    urls: [sim.url],
    apiKey,
    ...govRegistryPolicy(config),
    onBreakerChange: (state) => {
      if (state === 'open') opened++;
    },
  });
  const started = Date.now();
  await setup.query(`update reports set approved_at = now() where id = any($1::uuid[])`, [ids]);
  const workers = await startWorkers(deps);
  try {
    for (;;) {
      const { rows } = await setup.query<{ n: number }>(
        `select count(*)::int as n from reports where status = 'approved'`,
      );
      if (rows[0]!.n === 0) break;
      if (Date.now() - started > 10 * 60_000) throw new Error(`${s.name}: not done in 10 minutes`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await workers.stop();
  }
  const { rows: lat } = await setup.query<{ ms: number; at: Date }>(
    `select extract(epoch from forwarded_at - approved_at) * 1000 as ms, forwarded_at as at
       from reports where status = 'forwarded' order by 1`,
  );
  const { rows: twice } = await setup.query<{ n: number }>(
    `select count(*)::int as n from (select report_id from report_events where type = 'forwarded'
       group by report_id having count(*) > 1) d`,
  );
  const { rows: lost } = await setup.query<{ n: number }>(
    `select count(*)::int as n from reports where status <> 'forwarded'`,
  );
  const stats = sim.control.stats();
  await closeDeps(deps);
  await sim.stop();
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]?.ms ?? 0;
  const span = (Math.max(...lat.map((r) => r.at.getTime())) - started) / 1000;
  return [
    s.name,
    (lat.length / span).toFixed(0),
    q(0.5).toFixed(0),
    q(0.95).toFixed(0),
    q(0.99).toFixed(0),
    stats.requests,
    stats.errorsInjected,
    opened,
    lost[0]!.n,
    stats.casesCreated,
    twice[0]!.n + (stats.casesCreated - (o.reports - lost[0]!.n)),
  ];
}

/** N approved reports (as a review would leave them), each with its own evidence row, in one statement each. */
async function approvedReports(pool: Pool, n: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `with c as (
       insert into citizens (id, phone_hash, phone_enc) values (gen_random_uuid(), sha256(gen_random_uuid()::text::bytea), '\\x00')
       returning id),
     e as (
       insert into evidence (id, sha256, kind, mime, bytes)
       select gen_random_uuid(), sha256(i::text::bytea), 'photo', 'image/jpeg', 1000 from generate_series(1, $1) i
       returning id),
     en as (select id, row_number() over () as i from e),
     r as (
       insert into reports (id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, status,
                            last_event_hash, forward_due_at)
       select gen_random_uuid(), c.id, '128-6.1', '01A' || lpad(i::text, 3, '0') || 'BC', '01 A ' || i, 41.3, 69.28,
              now() - interval '1 hour', 'approved', '\\x00', now() + interval '48 hours'
         from c, generate_series(1, $1) i
       returning id),
     rn as (select id, row_number() over () as i from r),
     links as (insert into report_evidence (report_id, evidence_id, position)
               select rn.id, en.id, 0 from rn join en using (i) returning report_id)
     select report_id as id from links`,
    [n],
  );
  return rows.map((r) => r.id);
}
