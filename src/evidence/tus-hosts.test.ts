import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, signInCitizen, type TestApp } from '../../test/helpers/app.js';
import { TEST_SERVER_ENV } from '../../test/helpers/env.js';
import { makeScene } from '../../test/helpers/media.js';
import { testRedisUrl } from '../../test/helpers/redis.js';
import { startTestS3 } from '../../test/helpers/s3.js';
import { closeDeps, createDeps, type Deps } from '../app/deps.js';
import { buildApp } from '../app/http.js';
import { loadConfig } from '../platform/config/config.js';
import type { App } from '../platform/http/types.js';
import { createLogger } from '../platform/logger.js';
import { RedisLocker } from './tus-locker.js';

/**
 * Two API hosts, each with a data directory of its own, sharing PostgreSQL, Redis and the bucket: a tus upload begun
 * on one is finished on the other, as a client does after its connection (or host) dropped.
 */
const redisUrl = await testRedisUrl();
const TUS = { 'tus-resumable': '1.0.0' };

describe.skipIf(!redisUrl)('tus uploads across API hosts', () => {
  let a: TestApp;
  let bDeps: Deps;
  let b: App;
  beforeAll(async () => {
    const s3 = await startTestS3();
    const env = {
      ...s3.env,
      BLOB_STORE: 's3',
      REDIS_URL: redisUrl!,
      REDIS_PREFIX: `t${randomBytes(4).toString('hex')}:`,
    };
    a = await createTestApp({ ...env, LOG_LEVEL: 'error' });
    const config = loadConfig({
      ...TEST_SERVER_ENV,
      ...env,
      JARIMA_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'jarima-host-b-')),
      LOG_LEVEL: 'silent',
      JARIMA_WORKERS: 'none',
      RATE_LIMIT_AUTH_PER_MINUTE: '100000',
      RATE_LIMIT_SUBMIT_PER_MINUTE: '100000',
    });
    bDeps = await createDeps(config, {
      databaseUrl: a.db.url,
      secret: randomBytes(32).toString('hex'),
      logger: createLogger('silent', false),
    });
    // Every host has the one JARIMA_SECRET: its keys are host A's.
    bDeps.keys = a.deps.keys;
    b = await buildApp(bDeps, { workersRunning: null });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    if (bDeps) await closeDeps(bDeps);
  });

  it('finishes on host B an upload begun on host A, into the same evidence', async () => {
    const citizen = await signInCitizen(a);
    const onB = citizen.token;
    const photo = await makeScene(1600, 900);
    const created = await a.app.inject({
      method: 'POST',
      url: '/v1/tus',
      headers: { ...TUS, ...bearer(citizen.token), 'upload-length': String(photo.length) },
    });
    expect(created.statusCode).toBe(201);
    const location = created.headers.location as string;
    const half = Math.floor(photo.length / 2);
    const first = await a.app.inject({
      method: 'PATCH',
      url: location,
      headers: {
        ...TUS,
        ...bearer(citizen.token),
        'content-type': 'application/offset+octet-stream',
        'upload-offset': '0',
      },
      payload: photo.subarray(0, half),
    });
    expect(first.statusCode).toBe(204);
    // Host A is gone; the client asks host B where the upload stands and sends the rest there.
    const head = await b.inject({ method: 'HEAD', url: location, headers: { ...TUS, ...bearer(onB) } });
    expect(head.statusCode).toBe(200);
    expect(Number(head.headers['upload-offset'])).toBe(half);
    const rest = await b.inject({
      method: 'PATCH',
      url: location,
      headers: {
        ...TUS,
        ...bearer(onB),
        'content-type': 'application/offset+octet-stream',
        'upload-offset': String(half),
      },
      payload: photo.subarray(half),
    });
    expect(rest.statusCode).toBe(201);
    expect(rest.json()).toMatchObject({
      kind: 'photo',
      bytes: photo.length,
      media: { width: 1600, height: 900 },
    });
    // The evidence is in the shared bucket: host A serves it.
    expect(await a.deps.blobs.has(rest.json().sha256)).toBe(true);
  });
});

describe.skipIf(!redisUrl)('the Redis lock on an upload', () => {
  it('is held by one request at a time across processes, asks the holder to let go, and frees on unlock', async () => {
    const prefix = `lock${randomBytes(4).toString('hex')}:`;
    const r1 = new Redis(redisUrl!);
    const r2 = new Redis(redisUrl!);
    const hostA = new RedisLocker(r1, prefix);
    const hostB = new RedisLocker(r2, prefix);
    try {
      const held = hostA.newLock('u1');
      let asked = 0;
      await held.lock(new AbortController().signal, () => {
        asked++;
      });
      const waiting = hostB.newLock('u1').lock(new AbortController().signal, () => {});
      // Host B's attempt asks host A's holder to release (tus then ends the stalled request)…
      for (let i = 0; i < 100 && asked === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(asked).toBe(1);
      let acquired = false;
      void waiting.then(() => {
        acquired = true;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(acquired).toBe(false);
      // …and gets the lock once it is released.
      await held.unlock();
      await waiting;
      expect(acquired).toBe(true);
      // An aborted attempt gives up.
      const abort = new AbortController();
      abort.abort();
      await expect(hostA.newLock('u1').lock(abort.signal, () => {})).rejects.toMatchObject({
        status_code: 500,
      });
    } finally {
      hostA.close();
      hostB.close();
      r1.disconnect();
      r2.disconnect();
    }
  });
});
