import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DemoAccount } from '../auth/staff.js';
import { describeMediaTools, mediaToolsFor } from '../evidence/media-tools.js';
import {
  type GovRegistrySimulator,
  startGovRegistrySimulator,
} from '../integrations/gov-registry/simulator.js';
import { parseWorkerPools } from '../pipeline/pools.js';
import { type Config, devRoutesNeedAdmin } from '../platform/config/config.js';
import { type EmbeddedDatabase, locateCluster, startEmbeddedPostgres } from '../platform/db/embedded.js';
import { createPool } from '../platform/db/pool.js';
import { createLogger } from '../platform/logger.js';
import { warmReference } from '../reference/reference.cache.js';
import { seedDemo } from '../staff/demo.js';
import type { PasswordLink } from '../staff/staff-admin.schema.js';
import { bootstrapAdmin } from '../staff/staff-admin.service.js';
import { closeDeps, createDeps, govWebhookSecretsFor, resolveSecret } from './deps.js';
import { buildApp } from './http.js';
import { buildOpsApp } from './ops-http.js';
import { prepareDatabase } from './setup.js';
import { startWorkers, type Workers } from './worker.js';

export interface Platform {
  url: string;
  stop(): Promise<void>;
}

/**
 * Where the database comes from: DATABASE_URL, or an embedded server for the data directory — in it, unless running
 * as root from where the `postgres` user cannot enter (`locateCluster` says where it goes then).
 */
export async function openDatabase(
  config: Config,
  log: (line: string) => void,
): Promise<{ url: string; embedded: EmbeddedDatabase | null }> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, embedded: null };
  const cluster = await locateCluster(config.JARIMA_DATA_DIR, log);
  log(`starting embedded PostgreSQL in ${cluster.dir} …`);
  const embedded = await startEmbeddedPostgres({
    dir: cluster.dir,
    openParent: false,
    // Slow-query visibility (GET /v1/admin/queries) costs a little shared memory.
    settings: { shared_preload_libraries: 'pg_stat_statements' },
  });
  if (embedded.sharedWith)
    log(`the database is already served by process ${embedded.sharedWith}: using that server`);
  return { url: embedded.url, embedded };
}

/**
 * `jarima start`: everything in one process — database (embedded unless DATABASE_URL), migrations, reference data,
 * the first administrator's bootstrap link, the HTTP API, the pipeline workers and the local simulators. Stops cleanly on SIGINT/SIGTERM.
 */
export type Role = 'all' | 'api' | 'worker';

export async function startPlatform(
  config: Config,
  print: (line: string) => void = console.log,
  role: Role = 'all',
  opts: { demo?: boolean } = {},
): Promise<Platform> {
  const logger = createLogger(config.LOG_LEVEL);
  await mkdir(config.JARIMA_DATA_DIR, { recursive: true });
  const secret = await resolveSecret(config);
  // Before the database starts: a production host without a maintained ffmpeg stops here, naming MEDIA_TOOLS.
  const mediaTools = await mediaToolsFor(config);
  const db = await openDatabase(config, print);
  let workers: Workers | null = null;
  let gov: (GovRegistrySimulator & { apiKey: string }) | null = null;
  try {
    const setupPool = createPool(db.url, 2);
    try {
      const prepared = await prepareDatabase(setupPool);
      if (prepared.migrations.length) print(`applied migrations: ${prepared.migrations.join(', ')}`);
      if (prepared.boundariesImported) print('imported the bundled region and district boundaries');
    } finally {
      await setupPool.end();
    }

    // No registry configured: a local simulator in this process, reporting fines and payments to our own webhook
    // (its address is known once the HTTP server listens, before the first fine is due).
    let appUrl = '';
    if (!config.GOV_REGISTRY_URL) {
      const apiKey = randomBytes(16).toString('hex');
      const sim = await startGovRegistrySimulator({
        apiKey,
        ...(role === 'worker' ? {} : { webhookUrl: () => `${appUrl}/v1/integrations/gov/events` }),
        webhookSecret: govWebhookSecretsFor(config, secret)[0],
      });
      gov = Object.assign(sim, { apiKey });
    }
    const deps = await createDeps(config, {
      databaseUrl: db.url,
      secret,
      logger,
      mediaTools,
      ...(gov ? { govSimulator: { url: gov.url, apiKey: gov.apiKey } } : {}),
    });
    deps.ops.start({ wholePath: role === 'all', pointMs: config.OPS_POINT_SECONDS * 1000 });
    // Workers' metrics too: the cluster's alert evaluator judges every process (with REDIS_URL).
    deps.cluster?.start();
    deps.forecaster.start();
    const pools = parseWorkerPools(config.JARIMA_WORKERS);
    if (role !== 'api' && Object.values(pools).some((n) => n > 0))
      workers = await startWorkers(deps, { apiInProcess: role === 'all' });
    if (role === 'worker') {
      const running = workers;
      const ops =
        config.METRICS_PORT !== undefined ? await buildOpsApp(deps, () => running?.running() ?? false) : null;
      if (ops) await ops.listen({ host: config.HOST, port: config.METRICS_PORT });
      const opsAddress = ops?.server.address();
      const opsPort = typeof opsAddress === 'object' && opsAddress ? opsAddress.port : null;
      print(
        `Jarima worker running: ${describePools(workers) || 'no stages'} (pipeline only${opsPort ? `; /healthz, /readyz, /metrics on ${config.HOST}:${opsPort}` : ', no HTTP'})`,
      );
      print(`  media decoding:       ${describeMediaTools(mediaTools)}`);
      return {
        url: '',
        stop: async () => {
          await ops?.close();
          await workers?.stop();
          await closeDeps(deps);
          await gov?.stop();
        },
      };
    }
    const running = workers;
    const app = await buildApp(deps, { workersRunning: running ? () => running.running() : null });
    // Reference data is in the cache before the first citizen asks for it.
    await warmReference(deps);
    // Node's default backlog (511) dropped thousands of handshakes in a 10× spike (bench/README.md, mixed).
    await app.listen({ host: config.HOST, port: config.PORT, backlog: config.LISTEN_BACKLOG });
    deps.alerts?.manager.start(deps.alerts.evaluationIntervalMs);
    // Uploads a crash left unfinished (kill -9 mid-transfer): their temporary files, untouched for a day.
    deps.blobs.sweepAbandoned(24 * 3600 * 1000).then(
      (n) => n && logger.info({ removed: n }, 'removed abandoned upload files'),
      (err: unknown) => logger.warn({ err }, 'could not sweep abandoned upload files'),
    );
    // Before a forecast peak, the public reads it will bring are already cached.
    deps.forecaster.onPeakAhead = () =>
      Promise.all(
        [
          '/v1/stats/summary',
          '/v1/stats/by-district',
          '/v1/stats/timeseries',
          '/v1/violation-types?active=true',
        ].map((url) => app.inject({ method: 'GET', url })),
      );
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    const url =
      config.PUBLIC_URL ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
    appUrl = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;

    // `npm start` (--demo): the demo staff, created before the bootstrap so that `admin` is the demo administrator.
    const demo = opts.demo ? await seedDemo(deps.pool, config.JARIMA_DATA_DIR) : null;
    // A fresh installation has no administrator: one `admin` account is created, once, with a set-password link.
    const bootstrap = await bootstrapAdmin(deps.pool, {
      baseUrl: url,
      ttlHours: config.PASSWORD_LINK_TTL_HOURS,
    }).catch((err: unknown) => {
      logger.error({ err }, 'could not create the first administrator; use `jarima staff add --role admin`');
      return null;
    });
    banner(print, {
      url,
      role,
      embedded: db.embedded && embeddedPlace(config, db.embedded.dir),
      bootstrap,
      demo: demo && {
        created: demo.created,
        file: demo.file ?? path.join(config.JARIMA_DATA_DIR, 'demo-accounts.txt'),
      },
      workers: describePools(workers),
      media: describeMediaTools(mediaTools),
      govSimulator: gov?.url ?? null,
      smsSimulated: deps.smsSimulator !== null,
      emailSimulated: deps.emailOutbox !== null,
      payoutsSimulated: deps.payoutSimulator !== null,
      devRoutesAdminOnly: devRoutesNeedAdmin(config),
    });

    let stopping: Promise<void> | null = null;
    const stop = () =>
      (stopping ??= (async () => {
        print('shutting down: no new requests, finishing submissions and running jobs …');
        await app.close();
        await workers?.stop();
        await closeDeps(deps);
        await gov?.stop();
        await db.embedded?.stop();
        print('stopped.');
      })());
    return { url, stop };
  } catch (err) {
    // The start failed: stop what did start, and say what could not be stopped; the start's own error is thrown.
    const cleanup = (what: string) => (e: unknown) => logger.error({ err: e }, `could not stop ${what}`);
    await workers?.stop().catch(cleanup('the workers'));
    await gov?.stop().catch(cleanup('the registry simulator'));
    await db.embedded?.stop().catch(cleanup('the embedded database'));
    throw err;
  }
}

function banner(
  print: (line: string) => void,
  b: {
    url: string;
    role: Role;
    /** Where the embedded database's files are, or null for DATABASE_URL. */
    embedded: string | null;
    /** The first administrator's one-time link, when this start created that account. */
    bootstrap: PasswordLink | null;
    /** With --demo: the demo accounts this start created (their passwords are shown once) and where they are kept. */
    demo: { created: DemoAccount[]; file: string } | null;
    workers: string;
    /** ffmpeg's version and where it comes from. */
    media: string;
    govSimulator: string | null;
    smsSimulated: boolean;
    emailSimulated: boolean;
    payoutsSimulated: boolean;
    /** Production, simulators opted into: their /v1/dev routes answer only an admin. */
    devRoutesAdminOnly: boolean;
  },
): void {
  print('');
  print(`Jarima is running at ${b.url}`);
  print(`  API docs (OpenAPI):   ${b.url}/docs`);
  print(
    `  database:             ${b.embedded ? `embedded PostgreSQL (data in ${b.embedded})` : 'DATABASE_URL'}`,
  );
  print(`  pipeline workers:     ${b.workers ? `${b.workers} in this process` : 'none in this process'}`);
  print(`  media decoding:       ${b.media}`);
  if (b.smsSimulated) {
    print('  SMS gateway:          LOCAL SIMULATOR — nothing is really sent; read codes at');
    print(
      `                        ${b.url}/v1/dev/outbox?to=+998901234567${b.devRoutesAdminOnly ? ' (admins only)' : ''}`,
    );
  } else print('  SMS gateway:          SMS_GATEWAY_URL');
  print(
    `  e-mail:               ${b.emailSimulated ? `LOCAL OUTBOX — read at ${b.url}/v1/dev/email-outbox${b.devRoutesAdminOnly ? ' (admins only)' : ''}` : 'SMTP_URL'}`,
  );
  print(
    `  fines registry:       ${b.govSimulator ? `LOCAL SIMULATOR at ${b.govSimulator} (issues fines and payments by itself)` : 'GOV_REGISTRY_URL'}`,
  );
  print(
    `  reward payouts:       ${b.payoutsSimulated ? 'LOCAL SIMULATOR — nobody is really paid (references kept in the database)' : 'PAYOUT_PROVIDER_URL'}`,
  );
  if (b.bootstrap) {
    print(`  first administrator:  login "admin"; set its password once (until ${b.bootstrap.expiresAt}) at`);
    print(`                        ${b.bootstrap.url}`);
    print(
      '                        (lost it? `jarima staff reset-password admin`; demo accounts: `jarima seed --demo`)',
    );
  }
  if (b.demo?.created.length) {
    print(`  demo staff accounts (shown once; also saved to ${b.demo.file}):`);
    for (const a of b.demo.created)
      print(`    ${a.role.padEnd(10)} login: ${a.login.padEnd(10)} password: ${a.password}`);
    print(
      '    (the supervisor and the admin set up two-factor sign-in with an authenticator app at first sign-in)',
    );
  } else if (b.demo) print(`  demo staff accounts:  in ${b.demo.file}`);
  print('Press Ctrl-C to stop.');
  print('');
}

/** A cluster moved out of the data directory is named in full: that is where its files are to back up or delete. */
function embeddedPlace(config: Config, dir: string): string {
  return dir === path.resolve(config.JARIMA_DATA_DIR, 'pg')
    ? 'JARIMA_DATA_DIR/pg'
    : `${dir}, where the postgres user can reach it`;
}

/**
 * "validate dedupe enrich analyze in batches, forward×1 notify×2 …" (stages in batches have no standing worker, so
 * their pool size is 0), or "" when no stage runs in this process.
 */
function describePools(workers: Workers | null): string {
  const sizes = Object.entries(workers?.sizes() ?? {})
    .filter(([, n]) => n > 0)
    .map(([stage, n]) => `${stage}×${n}`);
  const batching = workers?.batching() ?? [];
  return [...(batching.length ? [`${batching.join(' ')} in batches`] : []), sizes.join(' ')]
    .filter(Boolean)
    .join(', ');
}
