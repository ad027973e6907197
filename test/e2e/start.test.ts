import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type JarimaProcess, running, spawnJarima, validReport } from '../helpers/process.js';

/**
 * The README's quick start, for real: `jarima start` with no configuration (embedded PostgreSQL in a fresh data
 * directory), a citizen's whole path over HTTP, SIGTERM; then a kill -9 in the middle of work and a restart that
 * loses nothing.
 */
let dataDir: string;
let jarima: JarimaProcess;
let url: string;
const phone = '+998911234567';
let token: string;
const accepted: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'jarima-e2e-'));
  jarima = spawnJarima(['start'], { JARIMA_DATA_DIR: dataDir, PORT: '0' });
  url = await running(jarima);
}, 120_000);

/** The cluster's directory: in the data directory, or where it moved to (as root: docs/architecture.md). */
async function clusterDir(): Promise<string> {
  const marker = path.join(dataDir, 'pg-location');
  return existsSync(marker) ? (await readFile(marker, 'utf8')).trim() : path.join(dataDir, 'pg');
}

afterAll(async () => {
  await jarima.stop('SIGKILL');
  const cluster = await clusterDir();
  await rm(dataDir, { recursive: true, force: true });
  if (!cluster.startsWith(dataDir)) await rm(path.dirname(cluster), { recursive: true, force: true });
});

describe('npm start', () => {
  it("prints the URL, the docs, the simulator and the first administrator's one-time link", async () => {
    const out = jarima.output();
    expect(out).toContain('/docs');
    expect(out).toMatch(/SMS gateway:\s+LOCAL SIMULATOR/);
    expect(out).toMatch(/first administrator:\s+login "admin".*\n\s+http\S+\/staff\/set-password#token=\S+/);
    expect(out).not.toContain('password: ');
    const api = client(url);
    expect((await api.call('GET', '/readyz')).body.ok).toBe(true);
    const docs = await fetch(`${url}/docs/json`);
    expect(((await docs.json()) as { paths: object }).paths).toHaveProperty(['/v1/reports']);
  });

  it('lets a citizen sign in through the outbox, upload, submit and see the outcome', async () => {
    const api = client(url);
    token = await api.signIn(phone);
    const evidence = await api.upload(token);
    const good = await api.call('POST', '/v1/reports', validReport(evidence), token);
    expect(good.status).toBe(202);
    expect((await api.settled(good.body.id, token)).status).toBe('awaiting_review');

    const abroad = await api.call(
      'POST',
      '/v1/reports',
      validReport(evidence, { lat: 41.0082, lon: 28.9784 }),
      token,
    );
    const rejected = await api.settled(abroad.body.id, token);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection.code).toBe('OUTSIDE_COUNTRY');
    expect(rejected.rejection.reason.uz).toBeTruthy();
    accepted.push(good.body.id, abroad.body.id);

    const mine = await api.call('GET', '/v1/me/reports', undefined, token);
    expect(mine.body.items.map((r: { id: string }) => r.id)).toEqual([abroad.body.id, good.body.id]);
  });

  it('lets an administrator run `jarima staff add` while it serves, on the same embedded database', async () => {
    const cli = spawnJarima(
      ['staff', 'add', '--login', 'aziz.k', '--name', 'Aziz K', '--role', 'inspector'],
      {
        JARIMA_DATA_DIR: dataDir,
      },
    );
    await cli.waitFor(/set-password#token=/, 60_000);
    const [code] = cli.child.exitCode !== null ? [cli.child.exitCode] : await once(cli.child, 'exit');
    expect(code).toBe(0);
    expect(cli.output()).toContain('already served by process');
    // The server's database is still up: the command used it rather than taking it over.
    const api = client(url);
    expect((await api.call('GET', '/readyz')).body.ok).toBe(true);
    expect((await api.call('GET', '/v1/me/reports', undefined, token)).status).toBe(200);
  }, 90_000);

  it('stops cleanly on SIGTERM, embedded PostgreSQL included', async () => {
    expect(await jarima.stop('SIGTERM')).toBe(0);
    expect(jarima.output()).toContain('stopped.');
    const cluster = await clusterDir();
    expect(existsSync(path.join(cluster, 'PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(cluster, 'postmaster.pid'))).toBe(false);
  });

  it('loses no accepted report when killed with SIGKILL, and finishes its work after a restart', async () => {
    // Restart on the same data: earlier reports are still there, and no second bootstrap link is printed.
    jarima = spawnJarima(['start'], { JARIMA_DATA_DIR: dataDir, PORT: '0' });
    url = await running(jarima);
    expect(jarima.output()).not.toContain('first administrator');
    let api = client(url);
    expect((await api.call('GET', `/v1/reports/${accepted[0]}`, undefined, token)).body.status).toBe(
      'awaiting_review',
    );

    // A burst of submissions, then kill -9 while the pipeline is working on them. The embedded PostgreSQL child
    // is left running as an orphan, as it would be after a real crash.
    const evidence = await api.upload(token);
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        api.call(
          'POST',
          '/v1/reports',
          validReport(evidence, { plate: '10 B 555 CC', description: `crash ${i}` }),
          token,
        ),
      ),
    );
    expect(burst.every((r) => r.status === 202)).toBe(true);
    await jarima.stop('SIGKILL');

    jarima = spawnJarima(['start'], { JARIMA_DATA_DIR: dataDir, PORT: '0' });
    url = await running(jarima);
    api = client(url);
    // The burst shares one photo and one plate: the first submitted survives, the rest are its duplicates —
    // whether the pipeline got to them before the kill or after the restart.
    const ids = burst.map((r) => r.body.id as string).sort();
    for (const id of ids) {
      const report = await api.settled(id, token);
      const events = await api.call('GET', `/v1/reports/${id}/events`, undefined, token);
      expect(events.body.chainValid).toBe(true);
      const types = events.body.events.map((e: { type: string }) => e.type);
      if (id === ids[0]) {
        expect(report.status).toBe('awaiting_review');
        expect(types).toEqual(['submitted', 'validated', 'deduplicated', 'enriched', 'analyzed']);
      } else {
        expect(report.status).toBe('duplicate');
        expect(report.rejection.code).toBe('DUPLICATE_EVIDENCE');
        expect(types).toEqual(['submitted', 'validated', 'duplicate_found']);
      }
    }
    expect(await jarima.stop('SIGTERM')).toBe(0);
  });
});
