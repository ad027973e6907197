import { Type as T } from '@sinclair/typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../errors/http.js';
import { isDate, isDateTime, isUuid } from '../formats.js';
import { boundNumbers, FINITE, NUMBER_LIMIT, strictAjv, strictRouteSchema } from './strict-schema.js';

// With hex letters, so that its upper-case spelling differs.
const ID = '01900000-0000-7000-8000-00000000abcd';

describe('boundNumbers', () => {
  it('bounds every integer and number, however deep, and keeps bounds a schema has', () => {
    const schema = T.Object({
      limit: T.Integer({ minimum: 1, maximum: 500 }),
      region: T.Optional(T.Integer()),
      near: T.Union([T.Number({ exclusiveMinimum: 0 }), T.Null()]),
      ids: T.Array(T.Integer()),
      name: T.String(),
    });
    const out = boundNumbers(schema);
    expect(out.properties.limit).toMatchObject({ minimum: 1, maximum: 500, [FINITE]: true });
    expect(out.properties.region).toMatchObject({
      minimum: -NUMBER_LIMIT,
      maximum: NUMBER_LIMIT,
      [FINITE]: true,
    });
    const near = out.properties.near.anyOf[0] as Record<string, unknown>;
    expect(near).toMatchObject({ exclusiveMinimum: 0, maximum: NUMBER_LIMIT });
    expect(near.minimum).toBeUndefined();
    expect(out.properties.ids.items).toMatchObject({ maximum: NUMBER_LIMIT });
    expect(out.properties.name).toEqual(schema.properties.name);
    // The original is shared with other routes and the OpenAPI document: left as it was.
    expect(schema.properties.region).not.toHaveProperty('maximum');
  });
});

describe('formats', () => {
  it('takes ids only in the canonical lower-case form', () => {
    expect(isUuid(ID)).toBe(true);
    for (const bad of [`urn:uuid:${ID}`, `{${ID}}`, ID.toUpperCase(), ID.slice(1), ID.replaceAll('-', '')])
      expect(isUuid(bad), bad).toBe(false);
  });

  it('takes dates and instants of 1970–2100 only, with a real zone offset', () => {
    for (const ok of ['1970-01-01', '2024-02-29', '2100-12-31']) expect(isDate(ok), ok).toBe(true);
    for (const bad of ['0001-01-01', '1969-12-31', '2101-01-01', '9999-12-31', '275760-09-13', '2023-02-29'])
      expect(isDate(bad), bad).toBe(false);
    for (const ok of ['2026-12-07T11:48:19.123Z', '2026-12-07T16:48:19+05:00', '2026-12-07t11:48:19z'])
      expect(isDateTime(ok), ok).toBe(true);
    for (const bad of [
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59Z',
      '275760-09-13T00:00:00Z',
      '2026-12-07T11:48:19',
      '2026-12-07T24:00:00Z',
      '2026-12-07T23:59:60Z',
      '2026-12-07T12:00:00+23:00',
      '2026-12-07 11:48:19Z',
    ])
      expect(isDateTime(bad), bad).toBe(false);
  });
});

describe('HTTP validation with the strict rules', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    // The wiring of src/app/http.ts, on a route registered inside a plugin as the API's are.
    app = Fastify({ ajv: { customOptions: { coerceTypes: 'array' }, onCreate: strictAjv } });
    app.addHook('onRoute', strictRouteSchema);
    installErrorHandler(app);
    await app.register(async (plugin) => {
      plugin.post(
        '/things/:id',
        {
          schema: {
            params: T.Object({ id: T.String({ format: 'uuid' }) }),
            querystring: T.Object({
              limit: T.Integer({ minimum: 1, maximum: 500, default: 50 }),
              region: T.Optional(T.Integer({ minimum: 1 })),
              to: T.Optional(T.String({ format: 'date' })),
            }),
            body: T.Object({ at: T.String({ format: 'date-time' }), lat: T.Number() }),
          },
        },
        async () => ({ ok: true }),
      );
    });
    await app.ready();
  });
  afterAll(() => app.close());

  const post = (url: string, body: Record<string, unknown> = {}) =>
    app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload:
        typeof body.raw === 'string'
          ? body.raw
          : JSON.stringify({ at: '2026-12-07T10:00:00Z', lat: 41.3, ...body }),
    });

  it('lets a valid request through', async () => {
    expect((await post(`/things/${ID}?limit=5&region=3&to=2026-12-07`)).statusCode).toBe(200);
  });

  it.each([
    [`/things/${ID}?region=1e309`, 'region'],
    [`/things/${ID}?region=Infinity`, 'region'],
    [`/things/${ID}?region=NaN`, 'region'],
    [`/things/${ID}?region=9007199254740993`, 'region'],
    // A bound of its own does not stop a coerced Infinity in ajv: the keyword does.
    [`/things/${ID}?limit=1e309`, 'limit'],
    [`/things/${ID}?limit=-Infinity`, 'limit'],
    [`/things/urn:uuid:${ID}`, 'id'],
    [`/things/${ID.toUpperCase()}`, 'id'],
    [`/things/${ID}?to=0001-01-01`, 'to'],
    [`/things/${ID}?to=275760-09-13`, 'to'],
  ])('refuses %s naming %s', async (url, field) => {
    const res = await post(url);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  it('refuses non-finite numbers and far dates in a JSON body, naming the field', async () => {
    for (const [body, field] of [
      [{ raw: '{"at":"2026-12-07T10:00:00Z","lat":1e309}' }, 'lat'],
      [{ lat: '1e309' }, 'lat'],
      [{ lat: '-Infinity' }, 'lat'],
      [{ at: '0001-01-01T00:00:00Z' }, 'at'],
      [{ at: '9999-12-31T23:59:59Z' }, 'at'],
    ] as const) {
      const res = await post(`/things/${ID}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
  });
});
