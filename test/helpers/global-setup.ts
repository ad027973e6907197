import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { prepareDatabase } from '../../src/app/setup.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/platform/db/embedded.js';
import { createPool } from '../../src/platform/db/pool.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Maintenance-database URL of the server the tests use. */
    pgAdminUrl: string;
    /** Name of the migrated, seeded template database each test file clones. */
    pgTemplate: string;
  }
}

/**
 * One PostgreSQL server for the whole run: the one named by JARIMA_TEST_DATABASE_URL (a maintenance database URL,
 * e.g. postgres://root@127.0.0.1:5432/postgres) or, when that is unset, an embedded server in a temporary directory.
 * A template database is migrated and seeded once; every test file clones it (CREATE DATABASE … TEMPLATE).
 */
export default async function setup(project: TestProject) {
  let embedded: EmbeddedDatabase | undefined;
  let tmp: string | undefined;
  let adminUrl = process.env.JARIMA_TEST_DATABASE_URL;
  if (!adminUrl) {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'jarima-test-pg-'));
    embedded = await startEmbeddedPostgres({ dir: path.join(tmp, 'pg'), database: 'postgres' });
    adminUrl = embedded.adminUrl;
  }
  const template = `jarima_template_${process.pid}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  const pool = createPool(withDatabase(adminUrl, template), 4);
  try {
    await prepareDatabase(pool);
  } finally {
    await pool.end();
  }
  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);

  return async () => {
    await admin.query(`drop database if exists ${template} with (force)`).catch(() => {});
    await admin.end();
    await embedded?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
