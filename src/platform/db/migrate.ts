import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger, runMigrations } from 'graphile-worker';
import type { Pool } from './pool.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../db/migrations/', import.meta.url));
const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;
// Any constant works; it only has to be the same for every jarima process sharing a database.
const MIGRATION_LOCK = 7_431_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => MIGRATION_FILE.test(f)).sort();
  const migrations: Migration[] = [];
  for (const name of files) {
    const version = Number(MIGRATION_FILE.exec(name)![1]);
    if (migrations.some((m) => m.version === version))
      throw new Error(`duplicate migration number ${version}`);
    migrations.push({ version, name, sql: await readFile(path.join(dir, name), 'utf8') });
  }
  return migrations;
}

/**
 * Applies the numbered SQL migrations not yet applied, each in its own transaction, under an advisory lock so
 * several processes starting together do not race; then installs or upgrades graphile-worker's schema.
 */
export async function migrate(pool: Pool): Promise<{ applied: string[] }> {
  const migrations = await loadMigrations();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`create table if not exists schema_migrations (
      version int primary key, name text not null, applied_at timestamptz not null default now())`);
    const { rows } = await client.query<{ version: number }>('select version from schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      try {
        await client.query('begin');
        await client.query(m.sql);
        await client.query('insert into schema_migrations (version, name) values ($1, $2)', [
          m.version,
          m.name,
        ]);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.name);
    }
    await runMigrations({ pgPool: pool, logger: silentLogger });
  } finally {
    // A connection still holding the lock must not go back to the pool: ending it releases the lock.
    const failed = await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    client.release(failed);
  }
  return { applied };
}

/** True when every migration file has been applied (used by /readyz). */
export async function migrationsCurrent(pool: Pool): Promise<boolean> {
  const migrations = await loadMigrations();
  const { rows } = await pool.query<{ max: number | null }>(
    'select max(version) as max from schema_migrations',
  );
  return (rows[0]?.max ?? 0) >= (migrations.at(-1)?.version ?? 0);
}

const silentLogger = new Logger(() => () => {});
