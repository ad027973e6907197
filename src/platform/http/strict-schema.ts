import type { RouteOptions } from 'fastify';
import { FORMATS } from '../formats.js';

/**
 * Input rules every HTTP route gets without asking (docs/api.md, "Input rules"):
 *
 * - Numbers are finite and within bounds. ajv refuses a JSON `Infinity`, but it coerces the text `1e309` or
 *   `Infinity` (a query string, or a string in a body) to `Infinity` after its type check, and then skips
 *   `minimum`/`maximum`, which it applies to finite numbers only: even `limit` with `maximum: 500` let `Infinity`
 *   through to SQL. So every integer or number schema a request is validated against gets FINITE, checked on the
 *   coerced value, and ±NUMBER_LIMIT where it has no bound of its own (beyond that a JSON number loses precision).
 * - `uuid`, `date` and `date-time` are our definitions (src/platform/formats.ts), not ajv-formats'.
 */
export const NUMBER_LIMIT = Number.MAX_SAFE_INTEGER;
/** A keyword of ours (an OpenAPI `x-` extension, so the document stays valid): the value is a finite number. */
export const FINITE = 'x-finite';

const NUMERIC = new Set(['integer', 'number']);
// Keywords whose value is one schema, and those whose value is a list or a map of them.
const ONE = ['items', 'additionalProperties', 'additionalItems', 'contains', 'not', 'if', 'then', 'else'];
const MANY = ['items', 'prefixItems', 'anyOf', 'oneOf', 'allOf'];
const MAP = ['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions'];

type Schema = Record<string | symbol, unknown>;
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A copy of `schema` in which every integer/number schema, however deep, is FINITE with a minimum and maximum. The
 * input is left alone: TypeBox schemas are shared between routes and with the OpenAPI document. (A `$ref` is not
 * followed; no request schema uses one.)
 */
export function boundNumbers<T>(schema: T): T {
  if (!isSchema(schema)) return schema;
  // Spread keeps TypeBox's symbol keys (Kind) with the rest.
  const out: Schema = { ...schema };
  const types = Array.isArray(out.type) ? out.type : [out.type];
  if (types.some((t) => NUMERIC.has(t as string))) {
    out[FINITE] = true;
    if (out.minimum === undefined && out.exclusiveMinimum === undefined) out.minimum = -NUMBER_LIMIT;
    if (out.maximum === undefined && out.exclusiveMaximum === undefined) out.maximum = NUMBER_LIMIT;
  }
  for (const k of ONE) if (isSchema(out[k])) out[k] = boundNumbers(out[k]);
  for (const k of MANY) if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).map(boundNumbers);
  for (const k of MAP) {
    const map = out[k];
    if (isSchema(map))
      out[k] = Object.fromEntries(Object.entries(map).map(([name, s]) => [name, boundNumbers(s)]));
  }
  return out as T;
}

const REQUEST_PARTS = ['body', 'querystring', 'query', 'params', 'headers'] as const;

/** The `onRoute` hook: bounds the numbers of every request part of every route registered after it. */
export function strictRouteSchema(route: RouteOptions): void {
  const schema = route.schema as Record<string, unknown> | undefined;
  if (!schema) return;
  const bounded = { ...schema };
  for (const part of REQUEST_PARTS) if (part in bounded) bounded[part] = boundNumbers(bounded[part]);
  route.schema = bounded;
}

interface AjvInstance {
  addFormat(name: string, format: { type: 'string'; validate: (s: string) => boolean }): unknown;
  addKeyword(def: {
    keyword: string;
    schemaType: 'boolean';
    errors: false;
    validate: (on: boolean, data: unknown) => boolean;
    error: { message: string };
  }): unknown;
}

/**
 * Fastify's `ajv.onCreate`: the FINITE keyword and our formats. It runs after @fastify/ajv-compiler has added
 * ajv-formats, so these replace its definitions (an `ajv.plugins` entry would run before, and be overwritten).
 */
export function strictAjv(ajv: AjvInstance): void {
  ajv.addKeyword({
    keyword: FINITE,
    schemaType: 'boolean',
    errors: false,
    // Not typed to numbers: ajv guards its number keywords with isFinite, so this one would never see Infinity.
    validate: (on, data) => !on || typeof data !== 'number' || Number.isFinite(data),
    error: { message: 'must be a finite number' },
  });
  for (const [name, validate] of Object.entries(FORMATS)) ajv.addFormat(name, { type: 'string', validate });
}
