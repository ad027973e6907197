import { auditContext } from '../audit/audit.js';
import { requireRole } from '../auth/guard.js';
import type { Pool } from '../platform/db/pool.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { listDistricts, listUnits } from './units.repository.js';
import {
  CreateUnitBody,
  DistrictList,
  Unit,
  UnitIdParams,
  UnitList,
  UpdateUnitBody,
} from './units.schema.js';
import { createUnit, toUnit, updateUnit } from './units.service.js';

export interface UnitRoutesOptions {
  db: Pool;
}

/** Police units and the districts they cover: every staff member reads them, administrators change them. */
export async function unitRoutes(app: App, opts: UnitRoutesOptions): Promise<void> {
  const { db } = opts;
  const staff = { preHandler: requireRole('inspector', 'supervisor', 'admin') };
  const admin = { preHandler: requireRole('admin') };
  const security = [{ bearer: [] }];

  app.get(
    '/v1/units',
    {
      ...staff,
      schema: {
        tags: ['units'],
        summary: 'Police units, the districts each covers and how many active staff it has',
        security,
        response: { 200: UnitList, ...errorResponses(401, 403) },
      },
    },
    async () => ({ items: (await listUnits(db)).map(toUnit) }),
  );

  app.get(
    '/v1/districts',
    {
      ...staff,
      schema: {
        tags: ['units'],
        summary: 'Every district with its region and the unit covering it',
        security,
        response: { 200: DistrictList, ...errorResponses(401, 403) },
      },
    },
    async () => ({
      items: (await listDistricts(db)).map((d) => ({
        id: d.id,
        name: d.name,
        regionName: d.region_name,
        unitId: d.unit_id,
      })),
    }),
  );

  app.post(
    '/v1/admin/units',
    {
      ...admin,
      schema: {
        tags: ['units'],
        summary: 'Create a police unit covering districts (each district belongs to at most one unit)',
        security,
        body: CreateUnitBody,
        response: { 201: Unit, ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createUnit(db, auditContext(request), request.body)),
  );

  app.patch(
    '/v1/admin/units/:id',
    {
      ...admin,
      schema: {
        tags: ['units'],
        summary:
          "Rename, change the districts or (de)activate a unit; those districts' open reports follow at once",
        security,
        params: UnitIdParams,
        body: UpdateUnitBody,
        response: { 200: Unit, ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request) => updateUnit(db, auditContext(request), request.params.id, request.body),
  );
}
