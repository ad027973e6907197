import { Type as T } from '@sinclair/typebox';
import { auditContext } from '../audit/audit.js';
import { requireRole } from '../auth/guard.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { listStaff } from './staff-admin.repository.js';
import {
  CreatedStaff,
  CreateStaffBody,
  PasswordLink,
  StaffAccount,
  StaffIdParams,
  StaffList,
  StaffListQuery,
  UpdateStaffBody,
} from './staff-admin.schema.js';
import {
  createAccount,
  linkBaseUrl,
  resetAccountTotp,
  resetPassword,
  toAccount,
  unlockAccount,
  updateAccount,
} from './staff-admin.service.js';

export interface StaffAdminRoutesOptions {
  db: Pool;
  config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT' | 'PASSWORD_LINK_TTL_HOURS'>;
}

/** Administrators run the staff accounts: create (with a set-password link), edit, disable, reset, unlock. */
export async function staffAdminRoutes(app: App, opts: StaffAdminRoutesOptions): Promise<void> {
  const { db, config } = opts;
  const admin = { preHandler: requireRole('admin') };
  const tags = ['admin'];
  const security = [{ bearer: [] }];
  // Links name this server as it listens (its real port when PORT is 0), unless PUBLIC_URL says otherwise.
  const links = () => {
    const address = app.server.address();
    return {
      baseUrl: linkBaseUrl(config, typeof address === 'object' && address ? address.port : config.PORT),
      ttlHours: config.PASSWORD_LINK_TTL_HOURS,
    };
  };

  app.get(
    '/v1/admin/staff',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Staff accounts, by login; filter by role, unit, active, or part of the login or name',
        security,
        querystring: StaffListQuery,
        response: { 200: StaffList, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await listStaff(db, { role: q.role, unitId: q.unit, active: q.active, q: q.q });
      return { items: rows.map(toAccount) };
    },
  );

  app.post(
    '/v1/admin/staff',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Create a staff account; the answer carries its one-time set-password link',
        security,
        body: CreateStaffBody,
        response: { 201: CreatedStaff, ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const created = await createAccount(db, auditContext(request), request.body, links());
      return reply.status(201).send(created);
    },
  );

  app.patch(
    '/v1/admin/staff/:id',
    {
      ...admin,
      schema: {
        tags,
        summary:
          'Edit an account: name, role, unit, active. A role change or a disable ends its sessions at once',
        security,
        params: StaffIdParams,
        body: UpdateStaffBody,
        response: { 200: StaffAccount, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => updateAccount(db, auditContext(request), request.params.id, request.body),
  );

  app.post(
    '/v1/admin/staff/:id/password-link',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Reset a password: the old one stops working, sessions end, a new one-time link is returned',
        security,
        params: StaffIdParams,
        response: { 201: PasswordLink, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await resetPassword(db, auditContext(request), request.params.id, links())),
  );

  app.post(
    '/v1/admin/staff/:id/unlock',
    {
      ...admin,
      schema: {
        tags,
        summary: 'End a sign-in lock-out after repeated failures',
        security,
        params: StaffIdParams,
        response: { 204: T.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await unlockAccount(db, auditContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/admin/staff/:id/reset-totp',
    {
      ...admin,
      schema: {
        tags,
        summary:
          'Remove two-factor sign-in (a lost phone); its sessions end, and it enrols again if required',
        security,
        params: StaffIdParams,
        response: { 204: T.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await resetAccountTotp(db, auditContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
