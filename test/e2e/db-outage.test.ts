import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDeps, createDeps, type Deps } from '../../src/app/deps.js';
import { buildApp } from '../../src/app/http.js';
import { prepareDatabase } from '../../src/app/setup.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/platform/db/embedded.js';
import { createPool } from '../../src/platform/db/pool.js';
import type { App } from '../../src/platform/http/types.js';
import { createLogger } from '../../src/platform/logger.js';
import { bearer, multipart, reportBody } from '../helpers/app.js';
import { makeJpeg } from '../helpers/media.js';

/**
 * A database restart under a running API: while it is down every request gets 503 SERVICE_UNAVAILABLE (never a
 * 500), and when it is back the same process serves again with nothing accepted lost.
 */
let tmp: string;
let db: EmbeddedDatabase;
let deps: Deps;
let app: App;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'jarima-outage-'));
  db = await startEmbeddedPostgres({ dir: path.join(tmp, 'pg') });
  const setup = createPool(db.url, 2);
  await prepareDatabase(setup);
  await setup.end();
  const config = loadConfig({ JARIMA_DATA_DIR: tmp, LOG_LEVEL: 'silent', JARIMA_WORKERS: 'none' });
  deps = await createDeps(config, {
    databaseUrl: db.url,
    secret: randomBytes(32).toString('hex'),
    logger: createLogger('silent', false),
  });
  app = await buildApp(deps, { workersRunning: null });
}, 60_000);

afterAll(async () => {
  await app.close();
  await closeDeps(deps);
  await db.stop();
  await rm(tmp, { recursive: true, force: true });
});

async function signIn(phone: string): Promise<string> {
  await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { phone } });
  const code = /\b(\d{6})\b/.exec(deps.smsSimulator!.outbox(phone)[0]!.text)![1];
  return (await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { phone, code } })).json()
    .token;
}

describe('database restart', () => {
  it('answers 503 while the database is down and recovers without losing accepted reports', async () => {
    const token = await signIn('+998901110022');
    const mp = multipart(await makeJpeg(320, 240));
    const evidence = (
      await app.inject({
        method: 'POST',
        url: '/v1/evidence',
        payload: mp.payload,
        headers: { ...mp.headers, ...bearer(token) },
      })
    ).json().id;
    const before = await app.inject({
      method: 'POST',
      url: '/v1/reports',
      payload: reportBody([evidence]),
      headers: bearer(token),
    });
    expect(before.statusCode).toBe(202);

    const port = db.port;
    await db.stop();
    const down = await Promise.all([
      app.inject({
        method: 'POST',
        url: '/v1/reports',
        payload: reportBody([evidence]),
        headers: bearer(token),
      }),
      app.inject({ method: 'GET', url: `/v1/reports/${before.json().id}`, headers: bearer(token) }),
      app.inject({ method: 'GET', url: '/v1/me/reports', headers: bearer(token) }),
      app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { phone: '+998901110023' } }),
    ]);
    for (const res of down) {
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('SERVICE_UNAVAILABLE');
    }
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);

    db = await startEmbeddedPostgres({ dir: path.join(tmp, 'pg'), port });
    const after = await app.inject({
      method: 'POST',
      url: '/v1/reports',
      payload: reportBody([evidence]),
      headers: bearer(token),
    });
    expect(after.statusCode).toBe(202);
    const mine = (await app.inject({ method: 'GET', url: '/v1/me/reports', headers: bearer(token) })).json();
    expect(mine.items.map((r: { id: string }) => r.id)).toEqual([after.json().id, before.json().id]);
  });
});
