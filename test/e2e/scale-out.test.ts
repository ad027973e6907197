import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { client, type JarimaProcess, running, spawnJarima, validReport } from '../helpers/process.js';

/** The scale-out shape: an API process and two worker processes sharing one PostgreSQL. */
let dataDir: string;
const procs: JarimaProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'jarima-scale-'));
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await rm(dataDir, { recursive: true, force: true });
});

describe('jarima api + jarima worker', () => {
  it('refuse to start without a shared DATABASE_URL', async () => {
    const p = spawnJarima(['api'], { JARIMA_DATA_DIR: dataDir });
    expect(await new Promise((r) => p.child.on('exit', r))).toBe(78);
    expect(p.output()).toContain('DATABASE_URL');
  });

  it('serve submissions from the API process while worker processes run the pipeline', async () => {
    const db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, JARIMA_SECRET: 'k'.repeat(48), JARIMA_DATA_DIR: dataDir };
    const api = spawnJarima(['api'], { ...env, PORT: '0' });
    // One worker serves its health and metrics (METRICS_PORT), as a Prometheus scrape or a probe needs.
    const workers = [spawnJarima(['worker'], { ...env, METRICS_PORT: '0' }), spawnJarima(['worker'], env)];
    procs.push(api, ...workers);
    const url = await running(api);
    expect(api.output()).toMatch(/pipeline workers:\s+none in this process/);
    // Ready for traffic although it runs no workers: a load balancer keeps it in rotation.
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).checks.workers).toEqual({ ok: true, detail: 'disabled in this process' });
    await Promise.all(workers.map((w) => w.waitFor(/Jarima worker running/)));
    const ops = (await workers[0]!.waitFor(/\/metrics on (\S+:\d+)/))[1];
    expect(workers[1]!.output()).toMatch(/pipeline only, no HTTP/);
    const readyz = await fetch(`http://${ops}/readyz`);
    expect(readyz.status).toBe(200);
    expect((await readyz.json()).checks.workers).toEqual({ ok: true });
    expect(await (await fetch(`http://${ops}/metrics`)).text()).toContain('jarima_stage_workers');
    expect((await fetch(`http://${ops}/v1/violation-types`)).status).toBe(404);

    const c = client(url);
    const token = await c.signIn('+998935550011');
    const evidence = await c.upload(token);
    const ids = await Promise.all(
      Array.from(
        { length: 20 },
        async () => (await c.call('POST', '/v1/reports', validReport(evidence), token)).body.id as string,
      ),
    );
    // One photo and one plate for all: the first submitted goes to review, the others are its duplicates.
    const statuses = await Promise.all(ids.sort().map(async (id) => (await c.settled(id, token)).status));
    expect(statuses).toEqual(['awaiting_review', ...Array(ids.length - 1).fill('duplicate')]);
    expect(await Promise.all(procs.map((p) => p.stop('SIGTERM')))).toEqual([0, 0, 0]);
  });
});
