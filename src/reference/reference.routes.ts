import type { Cache } from '../platform/cache/cache.js';
import type { Queryable } from '../platform/db/pool.js';
import { sendCompressedJson } from '../platform/http/compressed.js';
import { type App, errorResponses, sendJson } from '../platform/http/types.js';
import {
  areasBody,
  areasKey,
  boundariesBody,
  boundariesKey,
  REFERENCE_CACHE,
  violationTypesBody,
  violationTypesKey,
} from './reference.cache.js';
import type { ReferenceData } from './reference.js';
import {
  Areas,
  AreasQuery,
  BoundariesQuery,
  BoundaryCollection,
  ViolationTypes,
  ViolationTypesQuery,
} from './reference.schema.js';

export interface ReferenceRoutesOptions {
  db: Queryable;
  cache: Cache;
  reference: ReferenceData;
}

/** Violation types, boundaries and areas: public, served as bodies serialised once (reference.cache.ts). */
export async function referenceRoutes(app: App, opts: ReferenceRoutesOptions): Promise<void> {
  const { db, cache, reference } = opts;
  app.get(
    '/v1/violation-types',
    {
      config: { shed: 'public' },
      schema: {
        tags: ['reference'],
        summary: 'Traffic violation types with their fines (BHM multiples and sum at today’s BHM)',
        querystring: ViolationTypesQuery,
        response: { 200: ViolationTypes },
      },
    },
    async (request, reply) => {
      const active = request.query.active;
      const body = await cache.getOrSet(REFERENCE_CACHE, violationTypesKey(active), async () =>
        violationTypesBody(reference, active),
      );
      // Already JSON: sent as it is, not serialised again.
      return sendJson(reply.header('cache-control', 'public, max-age=300'), body);
    },
  );

  app.get(
    '/v1/boundaries',
    {
      config: { shed: 'public' },
      schema: {
        tags: ['reference'],
        summary: 'Region or district outlines (GeoJSON) for maps',
        querystring: BoundariesQuery,
        response: { 200: BoundaryCollection, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const { level, detail } = request.query;
      const body = await cache.getOrSet(REFERENCE_CACHE, boundariesKey(level, detail), () =>
        boundariesBody(db, level, detail),
      );
      return sendCompressedJson(request, reply.header('cache-control', 'public, max-age=3600'), body);
    },
  );

  app.get(
    '/v1/areas',
    {
      config: { shed: 'public' },
      schema: {
        tags: ['reference'],
        summary: 'Regions or districts by id and name, without their outlines (for lists and filters)',
        querystring: AreasQuery,
        response: { 200: Areas, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const { level } = request.query;
      const body = await cache.getOrSet(REFERENCE_CACHE, areasKey(level), () => areasBody(db, level));
      return sendJson(reply.header('cache-control', 'public, max-age=3600'), body);
    },
  );
}
