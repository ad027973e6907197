import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/db.js';
import {
  BHM_RATES,
  bhmRateOn,
  fineInSum,
  loadReferenceData,
  parseCsv,
  parseViolationTypes,
  TRAFFIC_FINES_CSV,
} from './reference-data.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    expect(parseCsv('a,"b, c","say ""hi""",\r\n"x\ny",,z\n')).toEqual([
      ['a', 'b, c', 'say "hi"', ''],
      ['x\ny', '', 'z'],
    ]);
  });

  it('rejects an unterminated quote', () => {
    expect(() => parseCsv('a,"b\n')).toThrow(/unterminated/);
  });
});

describe('parseViolationTypes', () => {
  const types = parseViolationTypes(readFileSync(TRAFFIC_FINES_CSV, 'utf8'));

  it('reads every row of the fines table', () => {
    expect(types).toHaveLength(69);
    expect(new Set(types.map((t) => t.code)).size).toBe(69);
  });

  it('keeps commas inside quoted fields', () => {
    expect(types.find((t) => t.code === '123.1')?.name_en).toBe(
      'Throwing litter/objects from trains, city passenger vehicles, water transport',
    );
  });

  it('reads fractional BHM multiples, ranges and extra sanctions', () => {
    expect(types.find((t) => t.code === '138.1')?.bhm_min).toBe(0.3333);
    expect(types.find((t) => t.code === '194.1')).toMatchObject({ bhm_min: 1, bhm_max: 12 });
    expect(types.find((t) => t.code === '131.1')?.extra_sanction).toBe('licence deprivation 3 years');
  });

  it('activates only camera-recordable types', () => {
    expect(types.find((t) => t.code === '128-6.1')).toMatchObject({
      article: '128-6',
      part: '1',
      bhm_min: 2,
      bhm_max: null,
      extra_sanction: null,
      camera_recordable: true,
      active: true,
      name_uz: null,
      name_ru: null,
    });
    expect(types.find((t) => t.code === '131.1')).toMatchObject({ camera_recordable: false, active: false });
    expect(types.every((t) => t.active === t.camera_recordable)).toBe(true);
  });

  it('names the missing column or bad number', () => {
    expect(() => parseViolationTypes('article,part\n1,2\n')).toThrow(/column "violation_en"/);
    const header = 'article,part,violation_en,bhm_min,bhm_max,extra_sanction,camera_recordable_art17_1\n';
    expect(() => parseViolationTypes(`${header}1,1,x,abc,,,\n`)).toThrow(/line 2: bhm_min "abc"/);
  });
});

describe('bhmRateOn', () => {
  it('uses the Tashkent calendar date of the incident', () => {
    expect(bhmRateOn(BHM_RATES, new Date('2025-07-31T18:59:59Z'))?.amountSum).toBe(375_000);
    // 20:00 UTC on 31 July is 01:00 on 1 August in Tashkent.
    expect(bhmRateOn(BHM_RATES, new Date('2025-07-31T20:00:00Z'))?.amountSum).toBe(412_000);
    expect(bhmRateOn(BHM_RATES, new Date('2025-07-31T19:00:00Z'))?.amountSum).toBe(412_000);
    expect(bhmRateOn(BHM_RATES, new Date('2026-03-01T12:00:00Z'))?.amountSum).toBe(412_000);
  });

  it('does not depend on the order of the rates', () => {
    const reversed = [...BHM_RATES].reverse();
    expect(bhmRateOn(reversed, new Date('2025-09-01T00:00:00Z'))?.effectiveFrom).toBe('2025-08-01');
  });

  it('is null before the first known rate', () => {
    expect(bhmRateOn(BHM_RATES, new Date('2024-09-30T18:59:59Z'))).toBeNull();
  });
});

describe('fineInSum', () => {
  it('rounds to whole sum', () => {
    expect(fineInSum(0.3333, null, { amountSum: 412_000 })).toEqual({ min: 137_320, max: null });
    expect(fineInSum(1, 12, { amountSum: 412_000 })).toEqual({ min: 412_000, max: 4_944_000 });
    expect(fineInSum(0.5, null, { amountSum: 375_001 })).toEqual({ min: 187_501, max: null });
  });
});

describe('loadReferenceData', async () => {
  const { pool } = await createTestDatabase();

  it('loads everything, changes nothing when run again and keeps an administrator’s deactivation', async () => {
    await loadReferenceData(pool);
    await pool.query(`update violation_types set active = false where code = '128-6.1'`);

    expect(await loadReferenceData(pool)).toEqual({ violationTypes: 0, bhmRates: 0 });

    const { rows: counts } = await pool.query<{ types: number; active: number; rates: number }>(
      `select (select count(*) from violation_types) as types,
              (select count(*) from violation_types where active) as active,
              (select count(*) from bhm_rates) as rates`,
    );
    expect(counts[0]).toEqual({ types: 69, active: 27, rates: 2 });
    const { rows } = await pool.query(
      `select bhm_min, bhm_max, camera_recordable, active from violation_types where code in ('128-6.1', '138.1')
       order by code`,
    );
    expect(rows).toEqual([
      { bhm_min: 2, bhm_max: null, camera_recordable: true, active: false },
      { bhm_min: 0.3333, bhm_max: null, camera_recordable: false, active: false },
    ]);
  });

  it('updates changed data but not active', async () => {
    await pool.query(
      `update violation_types set name_en = 'stale', bhm_min = 99, active = true, updated_at = '2000-01-01'
       where code = '131.1'`,
    );
    expect(await loadReferenceData(pool)).toEqual({ violationTypes: 1, bhmRates: 0 });
    const { rows } = await pool.query(
      `select name_en, bhm_min, active, updated_at > now() - interval '1 minute' as touched
       from violation_types where code = '131.1'`,
    );
    expect(rows[0]).toEqual({
      name_en: 'Driving drunk or under narcotics/psychotropics',
      bhm_min: 40,
      active: true,
      touched: true,
    });
  });
});
