import { fileURLToPath } from 'node:url';
import { importBoundaries } from '../geo/boundaries.js';
import { migrate } from '../platform/db/migrate.js';
import type { Pool } from '../platform/db/pool.js';
import { loadReferenceData } from '../reference/reference-data.js';

const DATA = (file: string) => fileURLToPath(new URL(`../../data/${file}`, import.meta.url));
export const BUNDLED_REGIONS = DATA('uz-regions.geojson');
export const BUNDLED_DISTRICTS = DATA('uz-districts.geojson');

/**
 * Brings a database to the current schema, loads the reference data shipped in data/ and, when no boundaries have
 * been imported yet, the bundled ones. Safe to run on every start.
 */
export async function prepareDatabase(
  pool: Pool,
): Promise<{ migrations: string[]; boundariesImported: boolean }> {
  const { applied } = await migrate(pool);
  await loadReferenceData(pool);
  // Where the server preloads it (the embedded one does); elsewhere this quietly does nothing.
  await pool.query('create extension if not exists pg_stat_statements').catch(() => {});
  const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from regions');
  const empty = rows[0]!.n === 0;
  if (empty) {
    await importBoundaries(pool, BUNDLED_REGIONS);
    await importBoundaries(pool, BUNDLED_DISTRICTS);
  }
  return { migrations: applied, boundariesImported: empty };
}
