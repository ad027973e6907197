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

  it('seed --demo creates the demo staff once, in a demo unit, and prints their passwords', async () => {
    const first = await run(['seed', '--demo']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/inspector\s+login: inspector\s+password: \S{8,}/);
    expect(first.out).toMatch(/demo unit "Demo unit" covers \d+ districts/);
    expect((await run(['seed', '--demo'])).out).toContain('already exist');
    const { rows } = await db.pool.query(
      `select s.login from staff s join units u on u.id = s.unit_id where u.name = 'Demo unit' order by 1`,
    );
    expect(rows.map((r) => r.login)).toEqual(['admin', 'inspector', 'supervisor']);
  }, 60_000);

  it('unit add|list|set-districts manage police units, refusing a district another unit covers', async () => {
    const { rows } = await db.pool.query('select id, name from districts order by id limit 1');
    const district = rows[0] as { id: number; name: string };
    const taken = await run(['unit', 'add', 'City unit', '--districts', String(district.id)]);
    expect(taken).toMatchObject({ code: 1, out: expect.stringContaining('DISTRICT_TAKEN') });
    expect((await run(['unit', 'set-districts', 'Demo unit', 'none'])).code).toBe(0);
    const added = await run(['unit', 'add', 'City unit', '--districts', String(district.id)]);
    expect(added).toMatchObject({ code: 0, out: expect.stringContaining('covering 1 districts') });
    const list = await run(['unit', 'list']);
    expect(list.out).toMatch(/City unit\tactive\t0 staff\t1 districts/);
    expect(list.out).toContain(district.name);
    expect((await run(['unit', 'frobnicate'])).code).toBe(2);
  }, 180_000);

  it('staff add|list|set-role|set-unit|disable|enable|reset-password|unlock run the accounts', async () => {
    const add = await run([
      'staff',
      'add',
      '--login',
      'Ali.Valiyev',
      '--name',
      'Ali Valiyev',
      '--role',
      'inspector',
      '--unit',
      'City unit',
    ]);
    expect(add.code, add.out).toBe(0);
    expect(add.out).toMatch(/created inspector ali\.valiyev in City unit/);
    expect(add.out).toMatch(/https?:\/\/\S+\/staff\/set-password#token=[\w-]{20,}/);
    expect(
      (await run(['staff', 'add', '--login', 'ali.valiyev', '--name', 'Again', '--role', 'inspector'])).out,
    ).toContain('LOGIN_TAKEN');
    expect((await run(['staff', 'add', '--login', 'x1', '--name', 'X', '--role', 'chief'])).code).toBe(2);
    expect((await run(['staff', 'set-role', 'ali.valiyev', 'supervisor'])).out).toContain(
      'ali.valiyev: supervisor',
    );
    expect((await run(['staff', 'disable', 'ali.valiyev'])).code).toBe(0);
    const list = await run(['staff', 'list', '--inactive']);
    expect(list.out).toMatch(/ali\.valiyev\tsupervisor\tCity unit\tdisabled, no password yet\tAli Valiyev/);
    expect((await run(['staff', 'enable', 'ali.valiyev'])).code).toBe(0);
    expect((await run(['staff', 'set-unit', 'ali.valiyev', 'none'])).out).toContain('no unit');
    const reset = await run(['staff', 'reset-password', 'inspector']);
    expect(reset.out).toMatch(/\/staff\/set-password#token=/);
    expect((await run(['staff', 'unlock', 'inspector'])).out).toContain('sign-in unlocked');
    // The demo admin is the only administrator.
    const last = await run(['staff', 'disable', 'admin']);
    expect(last).toMatchObject({ code: 1, out: expect.stringContaining('LAST_ADMIN') });
    expect((await run(['staff', 'disable', 'nobody-here'])).out).toContain('ACCOUNT_NOT_FOUND');
    expect((await run(['staff'])).code).toBe(2);
  }, 240_000);

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
