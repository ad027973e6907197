import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeDeps, createDeps } from '../../src/app/deps.js';
import { buildApp } from '../../src/app/http.js';
import { issueSessionTokens } from '../../src/auth/sessions.js';
import { importBoundaries } from '../../src/geo/boundaries.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { createPool, withTransaction } from '../../src/platform/db/pool.js';
import { createLogger } from '../../src/platform/logger.js';
import { findReport } from '../../src/reports/reports.repository.js';
import type { ReportStatus } from '../../src/reports/status.js';
import { applyTransitions } from '../../src/reports/transition.js';
import {
  bearer,
  citizenWithEvidence,
  createTestApp,
  reportBody,
  staffMember,
  submitReport,
  type TestApp,
  until,
} from '../helpers/app.js';
import { TEST_SERVER_ENV } from '../helpers/env.js';
import { testRedisUrl } from '../helpers/redis.js';

const haveRedis = (await testRedisUrl()) !== null;

/** Moves a report the way a stage or an inspector does: in a transaction of this app's pool. */
async function move(t: TestApp, id: string, toStatus: ReportStatus) {
  await withTransaction(t.deps.pool, async (trx) => {
    const report = (await findReport(trx, id))!;
    await applyTransitions(trx, [
      { report, t: { toStatus, eventType: `test_${toStatus}`, actor: 'system:test' } },
    ]);
  });
}

async function namespaces(t: TestApp, token: string) {
  const res = await t.app.inject({ method: 'GET', url: '/v1/admin/cache', headers: bearer(token) });
  return res.json().namespaces as Record<string, { hits: number; misses: number; stale: number }>;
}

describe('report caches, invalidated on write', () => {
  it('serves polls from the cache and shows every transition at once: status, timeline and list', async () => {
    const t = await createTestApp();
    const admin = await staffMember(t, 'admin');
    const c = await citizenWithEvidence(t);
    const get = (url: string, token = c.token) =>
      t.app.inject({ method: 'GET', url, headers: bearer(token) });
    const id = (await submitReport(t, c.token, reportBody([c.evidenceId]))).json().id as string;

    expect((await get('/v1/me/reports')).json().items.map((r: { id: string }) => r.id)).toEqual([id]);
    for (let i = 0; i < 5; i++) expect((await get(`/v1/reports/${id}`)).json().status).toBe('received');
    expect((await get(`/v1/reports/${id}/events`)).json().events).toHaveLength(1);
    const before = await namespaces(t, admin.token);
    // Reading the list stored each listed report too: every status read was a hit.
    expect(before.report).toMatchObject({ hits: 5, misses: 0 });

    await move(t, id, 'validated');
    // The very next read, with no wait: the commit dropped the cached copies.
    expect((await get(`/v1/reports/${id}`)).json().status).toBe('validated');
    expect(
      (await get(`/v1/reports/${id}/events`)).json().events.map((e: { type: string }) => e.type),
    ).toEqual(['submitted', 'test_validated']);
    expect((await get('/v1/me/reports')).json().items[0].status).toBe('validated');

    // A new submission is on the list as soon as it is accepted.
    const up = await t.app.inject({
      method: 'GET',
      url: `/v1/reports/${id}`,
      headers: bearer(c.token),
    });
    expect(up.statusCode).toBe(200);
    const second = await submitReport(t, c.token, reportBody([c.evidenceId]));
    expect(second.statusCode).toBe(202);
    expect((await get('/v1/me/reports')).json().items.map((r: { id: string }) => r.id)).toEqual([
      second.json().id,
      id,
    ]);
    // A later page, or a longer one, reads the database and agrees.
    const page = (await get('/v1/me/reports?limit=1')).json();
    expect(page.items.map((r: { id: string }) => r.id)).toEqual([second.json().id]);
    const rest = (await get(`/v1/me/reports?limit=1&cursor=${page.nextCursor}`)).json();
    expect(rest).toMatchObject({ items: [{ id }], nextCursor: null });
    expect((await get('/v1/me/reports?limit=50')).json().items).toHaveLength(2);
    const after = await namespaces(t, admin.token);
    expect(after.report!.misses).toBe(1); // the read right after the transition
    expect(after.citizenReports!.misses).toBeGreaterThanOrEqual(3);
  });

  it('keeps one cached copy for staff and the citizen without leaking either way', async () => {
    const t = await createTestApp();
    const c = await citizenWithEvidence(t);
    const other = await citizenWithEvidence(t);
    const inspector = await staffMember(t, 'inspector');
    const id = (await submitReport(t, c.token, reportBody([c.evidenceId]))).json().id as string;
    await move(t, id, 'validated');
    await withTransaction(t.deps.pool, async (trx) => {
      const report = (await findReport(trx, id))!;
      await applyTransitions(trx, [
        { report, t: { toStatus: 'awaiting_review', eventType: 'x', actor: `staff:${inspector.id}` } },
      ]);
    });
    const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
    for (let i = 0; i < 2; i++) {
      expect((await get(`/v1/reports/${id}`, inspector.token)).json().review).toBeDefined();
      expect((await get(`/v1/reports/${id}`, c.token)).json().review).toBeUndefined();
      expect((await get(`/v1/reports/${id}`, other.token)).statusCode).toBe(404);
      expect((await get(`/v1/reports/${id}/events`, other.token)).statusCode).toBe(404);
      const actors = (await get(`/v1/reports/${id}/events`, c.token))
        .json()
        .events.map((e: { actor: string }) => e.actor);
      expect(actors.at(-1)).toBe('inspector');
      const staffActors = (await get(`/v1/reports/${id}/events`, inspector.token))
        .json()
        .events.map((e: { actor: string }) => e.actor);
      expect(staffActors.at(-1)).toBe(`staff:${inspector.id}`);
    }
    // An unknown id is not remembered as missing.
    expect((await get('/v1/reports/0190a5c0-0000-7000-8000-000000000000', inspector.token)).statusCode).toBe(
      404,
    );
  });

  it('with CACHE_ENABLED=false reads the database every time and answers the same', async () => {
    const t = await createTestApp({ CACHE_ENABLED: 'false' });
    const admin = await staffMember(t, 'admin');
    const c = await citizenWithEvidence(t);
    const id = (await submitReport(t, c.token, reportBody([c.evidenceId]))).json().id as string;
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/reports/${id}`, headers: bearer(c.token) });
      expect(res.json().status).toBe('received');
    }
    const ns = await namespaces(t, admin.token);
    expect(ns.report).toMatchObject({ hits: 0, misses: 3 });
  });

  it.each([
    ['alone (NOTIFY)', false],
    ['sharing Redis (NOTIFY, L2 and bus)', true],
  ])(
    'drops another API process’s copy when this one commits a transition: %s',
    async (_name, withRedis) => {
      if (withRedis && !haveRedis) return;
      const shared: Record<string, string> = withRedis
        ? { REDIS_URL: (await testRedisUrl())!, REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}:` }
        : {};
      const a = await createTestApp(shared);
      // A second API process on the same database (and Redis), with its own memory tier.
      const config = loadConfig({
        JARIMA_DATA_DIR: path.join(os.tmpdir(), 'jarima-b'),
        LOG_LEVEL: 'silent',
        JARIMA_WORKERS: 'none',
        ...TEST_SERVER_ENV,
        ...shared,
      });
      const bDeps = await createDeps(config, {
        databaseUrl: a.db.url,
        secret: randomBytes(32).toString('hex'),
        logger: createLogger('silent', false),
      });
      const b = await buildApp(bDeps, { workersRunning: null });
      try {
        const c = await citizenWithEvidence(a);
        const id = (await submitReport(a, c.token, reportBody([c.evidenceId]))).json().id as string;
        const token = (
          await issueSessionTokens(bDeps.pool, bDeps.keys.token, [{ id: c.id, role: 'citizen' }], 600)
        )[0]!;
        const getB = async () => {
          const res = await b.inject({ method: 'GET', url: `/v1/reports/${id}`, headers: bearer(token) });
          if (res.statusCode !== 200) throw new Error(`B: ${res.statusCode} ${res.body.slice(0, 200)}`);
          return res.json().status;
        };
        const listB = async () =>
          (await b.inject({ method: 'GET', url: '/v1/me/reports', headers: bearer(token) })).json().items
            .length;
        expect(await getB()).toBe('received');
        expect(await getB()).toBe('received'); // now in B's memory
        expect(await listB()).toBe(1);
        await submitReport(a, c.token, reportBody([c.evidenceId]));
        expect(await until('B lists the new report', async () => (await listB()) === 2, 3000)).toBe(true);

        await move(a, id, 'validated');
        expect(await until('B sees the transition', async () => (await getB()) === 'validated', 3000)).toBe(
          true,
        );
      } finally {
        await b.close();
        await closeDeps(bDeps);
      }
    },
    30_000,
  );
});

describe('reference data cache', () => {
  it('is warm from the start and is refreshed when another process imports boundaries', async () => {
    const t = await createTestApp();
    const admin = await staffMember(t, 'admin');
    const { warmReference } = await import('../../src/reference/reference.cache.js');
    await warmReference(t.deps);
    const get = (url: string) => t.app.inject({ method: 'GET', url });
    const regions = await get('/v1/boundaries');
    expect(regions.statusCode).toBe(200);
    expect(regions.headers['content-type']).toContain('application/json');
    const collection = regions.json();
    expect(collection.features).toHaveLength(14);
    expect((await get('/v1/boundaries?level=district')).json().features.length).toBeGreaterThan(150);
    expect((await get('/v1/violation-types?active=true')).json().items.length).toBeGreaterThan(0);
    expect((await get('/v1/boundaries?level=county')).statusCode).toBe(400);
    // Compressed once, sent compressed to every client that accepts it.
    const br = await t.app.inject({
      method: 'GET',
      url: '/v1/boundaries',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.rawPayload.length).toBeLessThan(regions.rawPayload.length / 3);
    const { brotliDecompressSync } = await import('node:zlib');
    expect(JSON.parse(brotliDecompressSync(br.rawPayload).toString()).features).toHaveLength(14);
    const ns = await namespaces(t, admin.token);
    expect(ns.reference!.hits).toBeGreaterThanOrEqual(4);
    expect(ns.reference!.misses).toBe(9); // the warm-up's, and no other

    // The outline detail: the same areas in a fraction of the positions; names without outlines.
    const positions = (fc: { features: { geometry: { coordinates: unknown[] } }[] }) =>
      fc.features.reduce((n, f) => n + JSON.stringify(f.geometry.coordinates).split('],[').length, 0);
    const outline = (await get('/v1/boundaries?detail=outline')).json();
    expect(outline.features.map((f: { id: number }) => f.id)).toEqual(
      collection.features.map((f: { id: number }) => f.id),
    );
    expect(positions(outline)).toBeLessThan(positions(collection) / 4);
    expect((await get('/v1/boundaries?detail=coarse')).json()).toMatchObject({ field: 'detail' });
    const areas = (await get('/v1/areas?level=district')).json().items;
    expect(areas.length).toBeGreaterThan(150);
    expect(areas[0]).toEqual({
      id: expect.any(Number),
      name: expect.any(String),
      iso: null,
      regionId: expect.any(Number),
    });
    expect((await get('/v1/areas')).json().items).toHaveLength(14);

    // `jarima import-boundaries` in another process renames a region.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-regions-'));
    const file = JSON.parse(await readFile(path.resolve('data/uz-regions.geojson'), 'utf8'));
    const renamed = file.features[0].properties.shapeName;
    file.features[0].properties.shapeName = 'Renamed Region';
    await writeFile(path.join(dir, 'regions.geojson'), JSON.stringify(file));
    const other = createPool(t.db.url, 2);
    try {
      await importBoundaries(other, path.join(dir, 'regions.geojson'));
    } finally {
      await other.end();
      await rm(dir, { recursive: true, force: true });
    }
    await until(
      'the API serves the new name',
      async () => {
        const names = (await get('/v1/boundaries'))
          .json()
          .features.map((f: { properties: { name: string } }) => f.properties.name);
        return names.includes('Renamed Region') && !names.includes(renamed);
      },
      5000,
    );
    // Every form of the reference data was refreshed, not only the one read above.
    const areaNames = (await get('/v1/areas')).json().items.map((a: { name: string }) => a.name);
    expect(areaNames).toContain('Renamed Region');
    const outlineNames = (await get('/v1/boundaries?detail=outline'))
      .json()
      .features.map((f: { properties: { name: string } }) => f.properties.name);
    expect(outlineNames).toContain('Renamed Region');
  });
});
