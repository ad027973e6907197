import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, staffMember } from '../../../test/helpers/app.js';
import { testRedisUrl } from '../../../test/helpers/redis.js';
import { Cache, cacheNamespace } from './cache.js';

const haveRedis = (await testRedisUrl()) !== null;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A Redis of this test's own, so it can be stopped and started again. */
function startRedis(port: number): Promise<ChildProcess> {
  const p = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    p.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) resolve(p);
    });
    p.once('error', reject);
  });
}
const stop = (p: ChildProcess) =>
  new Promise<void>((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });

let redis: ChildProcess | null = null;
afterAll(async () => {
  if (redis) await stop(redis);
});

describe('cache invalidation', () => {
  it('drops a value a slow reader stored just after the invalidation, a second later', async () => {
    const ns = cacheNamespace<string>('race', { ttl: '10m', grace: '10m' });
    const cache = new Cache({ redis: null, prefix: 'x:', namespaces: [ns] });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // A reader read the database before the change committed …
    const slow = cache.getOrSet(ns, 'k', async () => {
      await gate;
      return 'old';
    });
    // … the change commits and invalidates, and only then does the reader store what it read.
    await cache.invalidate(ns, ['k']);
    release();
    expect(await slow).toBe('old');
    expect(await cache.getOrSet(ns, 'k', async () => 'new')).toBe('old');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await cache.getOrSet(ns, 'k', async () => 'new')).toBe('new');
    expect(cache.stats().race).toMatchObject({ hits: 1, misses: 2 });
    await cache.disconnect();
  });
});

describe('cache size', () => {
  it('keeps far more than a thousand entries (bounded by memory, not by count)', async () => {
    const ns = cacheNamespace<{ n: number }>('many', { ttl: '10m', grace: '10m' });
    const cache = new Cache({ redis: null, prefix: 'x:', namespaces: [ns] });
    for (let i = 0; i < 5000; i++) await cache.set(ns, String(i), { n: i });
    let fromFactory = 0;
    for (let i = 0; i < 5000; i++)
      await cache.getOrSet(ns, String(i), async () => {
        fromFactory++;
        return { n: i };
      });
    expect(fromFactory).toBe(0);
    await cache.disconnect();
  });
});

describe('cache tiers', () => {
  it('serves repeated statistics from memory with one database read, counting hits and misses', async () => {
    const t = await createTestApp();
    const admin = await staffMember(t, 'admin');
    const before =
      t.deps.queryTimings.top(500).find((q) => q.statement.startsWith('with bounds as'))?.calls ?? 0;
    const bodies = await Promise.all(
      Array.from({ length: 20 }, () => t.app.inject({ method: 'GET', url: '/v1/stats/summary' })),
    );
    expect(new Set(bodies.map((b) => b.body)).size).toBe(1);
    const after =
      t.deps.queryTimings.top(500).find((q) => q.statement.startsWith('with bounds as'))?.calls ?? 0;
    expect(after - before).toBe(1); // stampede protection: twenty callers, one query
    const res = await t.app.inject({ method: 'GET', url: '/v1/admin/cache', headers: bearer(admin.token) });
    expect(res.json().tiers).toEqual(['memory']);
    expect(res.json().namespaces.stats.misses).toBeGreaterThanOrEqual(1);
    expect(res.json().namespaces.stats.hits + res.json().namespaces.stats.misses).toBeGreaterThanOrEqual(20);
  });

  it.skipIf(!haveRedis)(
    'keeps serving when Redis stops, and uses it again when it returns',
    async () => {
      const port = await freePort();
      redis = await startRedis(port);
      const t = await createTestApp({ REDIS_URL: `redis://127.0.0.1:${port}` });
      const admin = await staffMember(t, 'admin');
      const get = (url: string) => t.app.inject({ method: 'GET', url });
      expect((await get('/v1/stats/summary')).statusCode).toBe(200);
      const tiers = await t.app.inject({
        method: 'GET',
        url: '/v1/admin/cache',
        headers: bearer(admin.token),
      });
      expect(tiers.json().tiers).toEqual(['memory', 'redis', 'bus']);

      expect((await get('/readyz')).json().checks.redis).toEqual({ ok: true });
      await stop(redis);
      redis = null;
      // Reported, and the process stays ready: it serves without Redis.
      const ready = await get('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks.redis.ok).toBe(false);
      // Cached (L1) and uncached (database) reads both still answer.
      expect((await get('/v1/stats/summary')).statusCode).toBe(200);
      expect((await get('/v1/stats/by-district')).statusCode).toBe(200);
      expect((await get('/v1/stats/timeseries?bucket=hour')).statusCode).toBe(200);

      redis = await startRedis(port);
      // Past the L2 circuit breaker (5 s), new entries reach Redis again.
      const { Redis } = await import('ioredis');
      const probe = new Redis(`redis://127.0.0.1:${port}`);
      let keys: string[] = [];
      for (let i = 0; i < 60 && keys.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 250));
        expect(
          (await get(`/v1/stats/timeseries?from=2026-01-0${1 + (i % 9)}&to=2026-01-10`)).statusCode,
        ).toBe(200);
        keys = await probe.keys('*');
      }
      probe.disconnect();
      expect(keys.length).toBeGreaterThan(0);
    },
    60_000,
  );
});
