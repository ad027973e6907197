import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Queryable } from '../platform/db/pool.js';

export interface ViolationTypeRow {
  /** `${article}.${part}`, e.g. "128-6.1". */
  code: string;
  article: string;
  part: string;
  name_en: string;
  name_uz: string | null;
  name_ru: string | null;
  bhm_min: number;
  bhm_max: number | null;
  extra_sanction: string | null;
  camera_recordable: boolean;
  /** Citizens may only report what a camera can prove; the rest stay listed but inactive. */
  active: boolean;
}

export interface BhmRate {
  /** Asia/Tashkent calendar date, YYYY-MM-DD. */
  effectiveFrom: string;
  amountSum: number;
}

const BHM_SOURCE =
  'Presidential decree on wages and the base calculation amount; reported by Tashkent Times, 2025-07-31 ' +
  '("What changes to regulations as of August 1": 375,000 -> 412,000 sum); not checked against lex.uz';

export const BHM_RATES: readonly (BhmRate & { source: string })[] = [
  { effectiveFrom: '2024-10-01', amountSum: 375_000, source: BHM_SOURCE },
  { effectiveFrom: '2025-08-01', amountSum: 412_000, source: BHM_SOURCE },
];

export const TRAFFIC_FINES_CSV = fileURLToPath(new URL('../../data/uz-traffic-fines.csv', import.meta.url));

/** RFC 4180: comma-separated, fields optionally in double quotes, "" inside quotes is a quote; CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      if (c === '\r' && text[i + 1] === '\n') i++;
    } else {
      field += c;
    }
    i++;
  }
  if (quoted) throw new Error('CSV: unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const FINES_COLUMNS = [
  'article',
  'part',
  'violation_en',
  'bhm_min',
  'bhm_max',
  'extra_sanction',
  'camera_recordable_art17_1',
] as const;

/** Violation types from data/uz-traffic-fines.csv; throws on a missing column or an unreadable number. */
export function parseViolationTypes(csvText: string): ViolationTypeRow[] {
  const [header, ...records] = parseCsv(csvText).filter((r) => !(r.length === 1 && r[0] === ''));
  if (!header) throw new Error('traffic fines CSV is empty');
  const col = Object.fromEntries(
    FINES_COLUMNS.map((name) => {
      const index = header.indexOf(name);
      if (index < 0) throw new Error(`traffic fines CSV: column "${name}" is missing`);
      return [name, index];
    }),
  ) as Record<(typeof FINES_COLUMNS)[number], number>;

  return records.map((record, i) => {
    const line = i + 2;
    const get = (name: (typeof FINES_COLUMNS)[number]) => (record[col[name]] ?? '').trim();
    const number = (name: (typeof FINES_COLUMNS)[number]): number | null => {
      const raw = get(name);
      if (raw === '') return null;
      const value = Number(raw);
      if (!Number.isFinite(value) || value <= 0) {
        throw new Error(`traffic fines CSV line ${line}: ${name} "${raw}" is not a positive number`);
      }
      return value;
    };
    const article = get('article');
    const part = get('part');
    const nameEn = get('violation_en');
    const bhmMin = number('bhm_min');
    if (!article || !part || !nameEn || bhmMin === null) {
      throw new Error(`traffic fines CSV line ${line}: article, part, violation_en and bhm_min are required`);
    }
    const cameraRecordable = get('camera_recordable_art17_1') === 'Y';
    return {
      code: `${article}.${part}`,
      article,
      part,
      name_en: nameEn,
      name_uz: null,
      name_ru: null,
      bhm_min: bhmMin,
      bhm_max: number('bhm_max'),
      extra_sanction: get('extra_sanction') || null,
      camera_recordable: cameraRecordable,
      active: cameraRecordable,
    };
  });
}

/**
 * Upserts the violation types and BHM rates shipped in the repository; safe to run on every start.
 * `active` is set only when a type is first inserted: afterwards it belongs to the administrators.
 * Returns how many rows were inserted or changed (0 and 0 when the database is already up to date).
 */
export async function loadReferenceData(
  db: Queryable,
): Promise<{ violationTypes: number; bhmRates: number }> {
  const types = parseViolationTypes(readFileSync(TRAFFIC_FINES_CSV, 'utf8'));
  const pick = <K extends keyof ViolationTypeRow>(key: K) => types.map((t) => t[key]);
  // The where clause leaves unchanged rows alone, so updated_at means "the data changed", not "the app started".
  const typesResult = await db.query(
    `insert into violation_types
       (code, article, part, name_en, name_uz, name_ru, bhm_min, bhm_max, extra_sanction, camera_recordable, active)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                          $7::numeric[], $8::numeric[], $9::text[], $10::boolean[], $11::boolean[])
     on conflict (code) do update set
       article = excluded.article, part = excluded.part, name_en = excluded.name_en, name_uz = excluded.name_uz,
       name_ru = excluded.name_ru, bhm_min = excluded.bhm_min, bhm_max = excluded.bhm_max,
       extra_sanction = excluded.extra_sanction, camera_recordable = excluded.camera_recordable, updated_at = now()
     where (violation_types.article, violation_types.part, violation_types.name_en, violation_types.name_uz,
            violation_types.name_ru, violation_types.bhm_min, violation_types.bhm_max,
            violation_types.extra_sanction, violation_types.camera_recordable)
       is distinct from (excluded.article, excluded.part, excluded.name_en, excluded.name_uz, excluded.name_ru,
            excluded.bhm_min, excluded.bhm_max, excluded.extra_sanction, excluded.camera_recordable)`,
    [
      pick('code'),
      pick('article'),
      pick('part'),
      pick('name_en'),
      pick('name_uz'),
      pick('name_ru'),
      pick('bhm_min'),
      pick('bhm_max'),
      pick('extra_sanction'),
      pick('camera_recordable'),
      pick('active'),
    ],
  );
  const ratesResult = await db.query(
    `insert into bhm_rates (effective_from, amount_sum, source)
     select * from unnest($1::date[], $2::bigint[], $3::text[])
     on conflict (effective_from) do nothing`,
    [
      BHM_RATES.map((r) => r.effectiveFrom),
      BHM_RATES.map((r) => r.amountSum),
      BHM_RATES.map((r) => r.source),
    ],
  );
  return { violationTypes: typesResult.rowCount ?? 0, bhmRates: ratesResult.rowCount ?? 0 };
}

const TASHKENT_OFFSET_MS = 5 * 60 * 60 * 1000; // UTC+5 all year: Uzbekistan has no daylight saving time

/** The incident's calendar date in Asia/Tashkent, YYYY-MM-DD. */
export function tashkentDate(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new Error('tashkentDate: invalid date');
  return new Date(at.getTime() + TASHKENT_OFFSET_MS).toISOString().slice(0, 10);
}

/** The BHM rate in force on the incident's Tashkent calendar date; null if it predates every known rate. */
export function bhmRateOn<R extends BhmRate>(rates: readonly R[], incidentAt: Date): R | null {
  const day = tashkentDate(incidentAt);
  let best: R | null = null;
  for (const rate of rates) {
    if (rate.effectiveFrom <= day && (best === null || rate.effectiveFrom > best.effectiveFrom)) best = rate;
  }
  return best;
}

/** A fine of bhmMin..bhmMax BHM in whole sum. */
export function fineInSum(
  bhmMin: number,
  bhmMax: number | null,
  rate: Pick<BhmRate, 'amountSum'>,
): { min: number; max: number | null } {
  // BHM multiples have at most 4 decimals (numeric(8, 4)); scaling to integers first keeps the product exact,
  // so a half-sum result rounds the way the decimal value says rather than the way its float error falls.
  const toSum = (bhm: number) => Math.round((Math.round(bhm * 10_000) * rate.amountSum) / 10_000);
  return { min: toSum(bhmMin), max: bhmMax === null ? null : toSum(bhmMax) };
}
