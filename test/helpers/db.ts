import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createPool, type Pool } from '../../src/platform/db/pool.js';
import { withDatabase } from './global-setup.js';

export interface TestDatabase {
  url: string;
  pool: Pool;
}

/**
 * A fresh database for this test file, cloned from the migrated and seeded template; dropped after the file.
 * Call at module level or in beforeAll.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplate');
  const name = `jarima_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const pool = createPool(url, 10, 'jarima-test');
  afterAll(async () => {
    await pool.end();
    const c = new pg.Client(adminUrl);
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`).catch(() => {});
    await c.end();
  });
  return { url, pool };
}
