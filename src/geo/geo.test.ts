import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/db.js';
import { importBoundaries, parseBoundaryFile } from './boundaries.js';
import { GeoIndex, type Polygon } from './geo-index.js';

const REGIONS_FILE = fileURLToPath(new URL('../../data/uz-regions.geojson', import.meta.url));
const DISTRICTS_FILE = fileURLToPath(new URL('../../data/uz-districts.geojson', import.meta.url));

const square = (x: number, y: number, size: number): Polygon => ({
  type: 'Polygon',
  coordinates: [
    [
      [x, y],
      [x + size, y],
      [x + size, y + size],
      [x, y + size],
      [x, y],
    ],
  ],
});

const feature = (properties: Record<string, unknown>, geometry: unknown = square(0, 0, 1)) => ({
  type: 'Feature',
  properties,
  geometry,
});
const region = (id: string) =>
  feature({ shapeID: id, shapeName: `Region ${id}`, shapeISO: '', shapeType: 'ADM1' });
const collection = (...features: unknown[]) => ({ type: 'FeatureCollection', features });

describe('parseBoundaryFile', () => {
  it('reads the level, names and ISO codes', () => {
    const parsed = parseBoundaryFile(
      collection(
        feature({ shapeID: 'a', shapeName: ' Alpha ', shapeISO: 'UZ-AL', shapeType: 'ADM1' }),
        region('b'),
      ),
    );
    expect(parsed.level).toBe('region');
    expect(parsed.features.map(({ shapeId, name, iso }) => ({ shapeId, name, iso }))).toEqual([
      { shapeId: 'a', name: 'Alpha', iso: 'UZ-AL' },
      { shapeId: 'b', name: 'Region b', iso: null },
    ]);
  });

  it.each([
    ['not a FeatureCollection', { type: 'Feature' }, /not a GeoJSON FeatureCollection/],
    ['null', null, /not a GeoJSON FeatureCollection/],
    ['no features', collection(), /no features/],
    ['a non-feature', collection(42), /feature 0 is not a GeoJSON Feature/],
    ['no shapeID', collection(feature({ shapeName: 'x', shapeType: 'ADM1' })), /feature 0 has no shapeID/],
    ['no shapeName', collection(feature({ shapeID: 'x', shapeType: 'ADM1' })), /\(x\) has no shapeName/],
    ['an unknown level', collection(feature({ shapeID: 'x', shapeName: 'x', shapeType: 'ADM3' })), /ADM3/],
    [
      'mixed levels',
      collection(region('a'), feature({ shapeID: 'b', shapeName: 'b', shapeType: 'ADM2' })),
      /feature 1 \(b\): mixes districts into a file of regions/,
    ],
    ['a duplicate shapeID', collection(region('a'), region('a')), /shapeID appears twice/],
    [
      'a point geometry',
      collection(
        feature({ shapeID: 'p', shapeName: 'p', shapeType: 'ADM1' }, { type: 'Point', coordinates: [1, 2] }),
      ),
      /feature 0 \(p\): geometry type "Point" is not Polygon or MultiPolygon/,
    ],
    [
      'no geometry',
      collection(feature({ shapeID: 'p', shapeName: 'p', shapeType: 'ADM1' }, null)),
      /geometry is missing/,
    ],
    [
      'an open ring',
      collection(
        feature(
          { shapeID: 'p', shapeName: 'p', shapeType: 'ADM1' },
          {
            type: 'Polygon',
            coordinates: [
              [
                [0, 0],
                [1, 0],
                [1, 1],
                [0, 1],
              ],
            ],
          },
        ),
      ),
      /not closed/,
    ],
    [
      'a bad position',
      collection(
        feature(
          { shapeID: 'p', shapeName: 'p', shapeType: 'ADM1' },
          {
            type: 'Polygon',
            coordinates: [
              [
                [0, 0],
                ['1', 0],
                [1, 1],
                [0, 0],
              ],
            ],
          },
        ),
      ),
      /\["1",0\] is not a \[lon, lat\] position/,
    ],
  ])('rejects %s', (_, json, message) => {
    expect(() => parseBoundaryFile(json)).toThrow(message);
  });
});

describe('GeoIndex.fromFeatures', () => {
  const index = GeoIndex.fromFeatures(
    [
      { id: 1, name: 'Province', iso: 'P', geometry: square(0, 0, 10) },
      {
        id: 2,
        name: 'Islands',
        iso: null,
        geometry: {
          type: 'MultiPolygon',
          coordinates: [square(20, 0, 1).coordinates, square(30, 0, 1).coordinates],
        },
      },
      { id: 3, name: 'City', iso: 'C', geometry: square(4, 4, 1) },
    ],
    [{ id: 7, name: 'Centre', geometry: square(4, 4, 2) }],
  );

  it('prefers the smaller of two overlapping areas', () => {
    expect(index.locate(4.5, 4.5)).toEqual({
      region: { id: 3, name: 'City', iso: 'C' },
      district: { id: 7, name: 'Centre' },
    });
    expect(index.locate(5.5, 5.5).region?.id).toBe(1);
  });

  it('finds every polygon of a MultiPolygon and nothing between them', () => {
    expect(index.locate(0.5, 30.5).region?.id).toBe(2);
    expect(index.locate(0.5, 20.5).region?.id).toBe(2);
    expect(index.insideCountry(0.5, 25)).toBe(false);
  });

  it('works with nothing loaded', () => {
    expect(GeoIndex.fromFeatures([], []).locate(1, 1)).toEqual({ region: null, district: null });
  });
});

describe('importBoundaries', async () => {
  const { pool } = await createTestDatabase();
  let index: GeoIndex;

  beforeAll(async () => {
    expect(await importBoundaries(pool, REGIONS_FILE)).toEqual({
      level: 'region',
      count: 14,
      removed: 0,
      unassigned: [],
    });
    const districts = await importBoundaries(pool, DISTRICTS_FILE);
    expect(districts).toEqual({ level: 'district', count: 199, removed: 0, unassigned: ['Shirin city'] });
    index = await GeoIndex.load(pool);
  });

  it('locates Tashkent in the capital and one of its districts', () => {
    const { region, district } = index.locate(41.3111, 69.2797);
    expect(['UZ-TK', 'UZ-TO']).toContain(region?.iso);
    expect(district).not.toBeNull();
  });

  it('locates Samarkand in Samarqand Region', () => {
    expect(index.locate(39.6542, 66.9597).region?.iso).toBe('UZ-SA');
    expect(index.insideCountry(39.6542, 66.9597)).toBe(true);
  });

  it('puts Almaty and Bishkek outside the country', () => {
    expect(index.locate(43.2389, 76.8897)).toEqual({ region: null, district: null });
    expect(index.insideCountry(43.2389, 76.8897)).toBe(false);
    expect(index.insideCountry(42.8746, 74.5698)).toBe(false);
  });

  it('assigns nearly every district to a region', async () => {
    const { rows } = await pool.query<{ assigned: number }>(
      'select count(region_id) as assigned from districts',
    );
    expect(rows[0]!.assigned).toBeGreaterThanOrEqual(190);
  });

  it('assigns a Tashkent city district to the capital', async () => {
    const { district } = index.locate(41.3111, 69.2797);
    const { rows } = await pool.query<{ iso: string }>(
      'select r.iso from districts d join regions r on r.id = d.region_id where d.id = $1',
      [district!.id],
    );
    expect(rows[0]?.iso).toBe('UZ-TK');
  });

  it('assigns a district that overlaps two regions to the one holding most of it', async () => {
    const { rows } = await pool.query<{ name: string; iso: string }>(
      `select d.name, r.iso from districts d join regions r on r.id = d.region_id
       where d.name in ('Bulungur', 'Yazyavan', 'Kanimekh', 'Tashkent', 'Yashnobod') order by d.name`,
    );
    expect(rows).toEqual([
      { name: 'Bulungur', iso: 'UZ-SA' },
      { name: 'Kanimekh', iso: 'UZ-NW' },
      { name: 'Tashkent', iso: 'UZ-TO' },
      { name: 'Yashnobod', iso: 'UZ-TK' },
      { name: 'Yazyavan', iso: 'UZ-FA' },
    ]);
  });

  it('keeps ids when the same regions file is imported again', async () => {
    const before = await pool.query('select id, shape_id from regions order by id');
    expect(await importBoundaries(pool, REGIONS_FILE)).toMatchObject({ count: 14, removed: 0 });
    const after = await pool.query('select id, shape_id from regions order by id');
    expect(after.rows).toEqual(before.rows);
    const { rows } = await pool.query<{ assigned: number }>(
      'select count(region_id) as assigned from districts',
    );
    expect(rows[0]!.assigned).toBeGreaterThanOrEqual(190);
  });

  it('names the file it cannot read or parse', async () => {
    await expect(importBoundaries(pool, '/nonexistent/regions.geojson')).rejects.toThrow(
      /cannot read boundary file \/nonexistent/,
    );
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-geo-'));
    const file = path.join(dir, 'points.geojson');
    await writeFile(file, JSON.stringify(collection({ type: 'Feature', properties: {}, geometry: null })));
    await expect(importBoundaries(pool, file)).rejects.toThrow(`${file}: feature 0 has no shapeID`);
    await rm(dir, { recursive: true, force: true });
  });

  it('removes a region that left the file and unlinks its districts', async () => {
    const full = JSON.parse(await readFile(REGIONS_FILE, 'utf8')) as {
      features: { properties: { shapeISO: string } }[];
    };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-geo-'));
    const file = path.join(dir, 'regions.geojson');
    await writeFile(
      file,
      JSON.stringify({ ...full, features: full.features.filter((f) => f.properties.shapeISO !== 'UZ-XO') }),
    );
    const { rows: xorazm } = await pool.query<{ districts: number }>(
      `select count(*) as districts from districts d join regions r on r.id = d.region_id where r.iso = 'UZ-XO'`,
    );
    expect(xorazm[0]!.districts).toBeGreaterThan(0);
    const { rows: before } = await pool.query<{ assigned: number }>(
      'select count(region_id) as assigned from districts',
    );

    expect(await importBoundaries(pool, file)).toMatchObject({ count: 13, removed: 1 });
    const { rows: after } = await pool.query<{ assigned: number }>(
      'select count(region_id) as assigned from districts',
    );
    expect(after[0]!.assigned).toBe(before[0]!.assigned - xorazm[0]!.districts);
    await rm(dir, { recursive: true, force: true });

    await importBoundaries(pool, REGIONS_FILE);
    await importBoundaries(pool, DISTRICTS_FILE);
    const { rows: restored } = await pool.query<{ assigned: number }>(
      'select count(region_id) as assigned from districts',
    );
    expect(restored[0]!.assigned).toBe(before[0]!.assigned);
  });
});
