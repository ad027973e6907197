import type { Queryable } from '../platform/db/pool.js';
import { GeoIndex } from './geo-index.js';

/**
 * The in-memory spatial index of the imported boundaries, built once and rebuilt only when boundaries change —
 * including an import run by another process (`jarima import-boundaries`): `fresh()` compares the newest import
 * time in the database, one indexed aggregate per call, and rebuilds on a change.
 */
export class BoundariesCache {
  private constructor(
    private index: GeoIndex,
    private stamp: string,
  ) {}

  static async load(db: Queryable): Promise<BoundariesCache> {
    return new BoundariesCache(await GeoIndex.load(db), await importStamp(db));
  }

  current(): GeoIndex {
    return this.index;
  }

  async fresh(db: Queryable): Promise<GeoIndex> {
    const stamp = await importStamp(db);
    if (stamp !== this.stamp) {
      this.index = await GeoIndex.load(db);
      this.stamp = stamp;
    }
    return this.index;
  }
}

async function importStamp(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ stamp: string }>(
    `select concat_ws('|', (select max(imported_at) from regions), (select count(*) from regions),
                           (select max(imported_at) from districts), (select count(*) from districts)) as stamp`,
  );
  return rows[0]!.stamp;
}
