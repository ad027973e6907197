import { FormatRegistry } from '@sinclair/typebox';

/**
 * The string formats our schemas use, defined once for both validators: TypeBox's Value.Check (job payloads, outside
 * systems' answers; it knows no formats by default) and Fastify's ajv for HTTP (see src/platform/http/strict-schema.ts,
 * which replaces ajv-formats' versions with these).
 *
 * They are stricter than JSON Schema's so that whatever passes is something PostgreSQL and `Date` accept as well:
 * - `uuid`: only the canonical 8-4-4-4-12 form in lower case (ajv-formats also takes `urn:uuid:` and upper case,
 *   which PostgreSQL then refuses, or stores as a second spelling of the same id in caches and sets);
 * - `date`, `date-time`: years DATE_YEARS only (PostgreSQL has no year 0, `Date` stops at 275760); a `date-time`
 *   needs a zone offset, one of the world's (−12:00 to +14:00; PostgreSQL refuses anything past ±15:59), and has no
 *   leap second (`Date` has none).
 */
export const DATE_YEARS = { min: 1970, max: 2100 } as const;

/** The canonical UUID, unanchored, for a `pattern` that embeds one (`report:<uuid>`). */
export const UUID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const UUID = new RegExp(`^${UUID_PATTERN}$`);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:z|([+-])(\d{2}):(\d{2}))$/i;
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

export function isDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < DATE_YEARS.min || year > DATE_YEARS.max || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS[month]!);
}

export function isDateTime(s: string): boolean {
  const t = s.search(/t/i);
  if (t !== 10 || !isDate(s.slice(0, t))) return false;
  const m = TIME.exec(s.slice(t + 1));
  if (!m) return false;
  const [hour, minute, second] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (m[4] && (Number(m[5]) > (m[4] === '+' ? 14 : 12) || Number(m[6]) > 59)) return false;
  return !Number.isNaN(Date.parse(s));
}

export const FORMATS = { uuid: isUuid, date: isDate, 'date-time': isDateTime } as const;

for (const [name, check] of Object.entries(FORMATS)) FormatRegistry.Set(name, check);
