import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type BlobStore, LocalBlobStore } from '../evidence/blob-store.js';
import { BoundariesCache } from '../geo/boundaries-cache.js';
import type { SmsGateway } from '../integrations/sms/port.js';
import { SmsSimulator } from '../integrations/sms/simulator.js';
import { createPool, type Pool } from '../platform/db/pool.js';
import type { Logger } from '../platform/logger.js';
import { deriveKeys, type Keys } from '../platform/security/keys.js';
import { ReferenceData } from '../reference/reference.js';
import { GroupCommitIntake } from '../reports/intake.js';
import type { Config } from './config.js';

/** Everything the routes and workers use, built once here and passed explicitly (no module singletons). */
export interface Deps {
  config: Config;
  logger: Logger;
  pool: Pool;
  keys: Keys;
  sms: SmsGateway;
  /** The SMS simulator when it is the gateway (no real one configured); null otherwise. */
  smsSimulator: SmsSimulator | null;
  blobs: BlobStore;
  reference: ReferenceData;
  /** Region and district boundaries as an in-memory spatial index. */
  boundaries: BoundariesCache;
  intake: GroupCommitIntake;
}

export interface DepsOptions {
  databaseUrl: string;
  secret: string;
  logger: Logger;
}

export async function createDeps(config: Config, opts: DepsOptions): Promise<Deps> {
  const pool = createPool(opts.databaseUrl, config.DB_POOL_MAX);
  const log = opts.logger;
  const smsSimulator = new SmsSimulator((sms) =>
    log.info({ simulator: 'sms', to: `${sms.to.slice(0, 6)}…` }, `[SMS SIMULATOR] ${sms.to}: ${sms.text}`),
  );
  const [reference, boundaries] = await Promise.all([ReferenceData.load(pool), BoundariesCache.load(pool)]);
  return {
    config,
    logger: log,
    pool,
    keys: deriveKeys(opts.secret),
    sms: smsSimulator,
    smsSimulator,
    blobs: new LocalBlobStore(path.join(config.JARIMA_DATA_DIR, 'blobs')),
    reference,
    boundaries,
    intake: new GroupCommitIntake(
      pool,
      { maxBatch: config.INTAKE_BATCH_MAX, maxInFlight: config.INTAKE_FLUSHERS },
      log,
    ),
  };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await deps.intake.drain();
  await deps.pool.end();
}

/**
 * JARIMA_SECRET when set; otherwise a random one generated on first start and kept in the data directory, so a
 * laptop install works with no configuration and keeps its tokens valid across restarts. Never committed.
 */
export async function resolveSecret(config: Config): Promise<string> {
  if (config.JARIMA_SECRET) return config.JARIMA_SECRET;
  const file = path.join(config.JARIMA_DATA_DIR, 'secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(config.JARIMA_DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}
