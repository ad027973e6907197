import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { spawnJarima } from '../helpers/process.js';

/** The maintenance commands, run as a person would, against a database of their own. */
let db: TestDatabase;
let dataDir: string;
const run = async (args: string[], env: Record<string, string> = {}) => {
  const p = spawnJarima(args, { DATABASE_URL: db.url, JARIMA_DATA_DIR: dataDir, ...env });
  const code = await new Promise<number | null>((r) => p.child.on('exit', r));
  return { code, out: p.output() };
};

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'jarima-cli-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('jarima CLI', () => {
  it('migrate is idempotent on a current database', async () => {
    expect(await run(['migrate'])).toMatchObject({
      code: 0,
      out: expect.stringContaining('schema is current'),
    });
  });

  it('seed --demo creates the demo staff once and prints their passwords', async () => {
    const first = await run(['seed', '--demo']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/inspector\s+login: inspector\s+password: \S{8,}/);
    expect((await run(['seed', '--demo'])).out).toContain('already exist');
  });

  it('import-boundaries re-imports a boundary file and refuses a broken one', async () => {
    const ok = await run(['import-boundaries', 'data/uz-regions.geojson']);
    expect(ok).toMatchObject({ code: 0, out: expect.stringContaining('imported 14 regions; removed 0') });
    const bad = path.join(dataDir, 'bad.geojson');
    await writeFile(
      bad,
      JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: {} }] }),
    );
    const refused = await run(['import-boundaries', bad]);
    expect(refused.code).toBe(1);
    const { rows } = await db.pool.query('select count(*)::int as n from regions');
    expect(rows[0].n).toBe(14);
  });

  it('stops on a wrong setting, naming the variable', async () => {
    const r = await run(['migrate'], { PORT: 'eighty', EVIDENCE_MAX_BYTES: '-1' });
    expect(r.code).toBe(78);
    expect(r.out).toMatch(/PORT/);
    expect(r.out).toMatch(/EVIDENCE_MAX_BYTES/);
  });

  it('prints usage for an unknown command', async () => {
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('usage: jarima');
  });
});
