import { Type as T } from '@sinclair/typebox';
import { requestOrigin } from '../audit/audit.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { staffNames } from './auth.repository.js';
import { principalOf, requireRole, STAFF_ROLES } from './guard.js';
import { changeOwnPassword, findPasswordLink, setPasswordWithLink } from './password-links.js';
import {
  ChangePasswordBody,
  LoginBody,
  LoginResponse,
  PasswordLinkParams,
  PasswordLinkResponse,
  SetPasswordBody,
  TotpConfirmBody,
  TotpConfirmResponse,
  TotpEnrolBody,
  TotpEnrolResponse,
  TotpLoginBody,
  TotpRemoveBody,
} from './staff-sign-in.schema.js';
import { StaffSignIn, type StaffSignInDeps } from './staff-sign-in.service.js';

export interface StaffSignInRoutesOptions extends StaffSignInDeps {
  rateLimitPerMinute: number;
}

/** Staff sign-in (password, then an authenticator code), two-factor set-up, and setting a password. */
export async function staffSignInRoutes(app: App, opts: StaffSignInRoutesOptions): Promise<void> {
  const signIn = new StaffSignIn(opts);
  const { db } = opts;
  const authLimit = { rateLimit: { max: opts.rateLimitPerMinute, timeWindow: 60_000 } };
  const staffOnly = requireRole(...STAFF_ROLES);

  app.post(
    '/v1/auth/login',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Staff sign-in with login and password',
        description:
          'Signed in, or a challenge for the second step: an authenticator code, or setting two-factor sign-in up ' +
          'where the role requires it. Unknown login, wrong password and disabled account are all LOGIN_INVALID; ' +
          'repeated failures slow down and then lock the login (429 SIGN_IN_LOCKED, Retry-After).',
        body: LoginBody,
        response: { 200: LoginResponse, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => signIn.login(request.body.login, request.body.password, requestOrigin(request)),
  );

  app.post(
    '/v1/auth/login/totp',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Second sign-in step: an authenticator code or a recovery code',
        body: TotpLoginBody,
        response: { 200: LoginResponse, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => {
      const { challenge, code, recoveryCode } = request.body;
      if ((code === undefined) === (recoveryCode === undefined))
        throw new AppError('VALIDATION_FAILED', {
          field: code === undefined ? 'code' : 'recoveryCode',
          message: 'Give exactly one of code and recoveryCode.',
        });
      return signIn.loginWithCode(
        challenge,
        code !== undefined ? { code } : { recoveryCode: recoveryCode! },
        requestOrigin(request),
      );
    },
  );

  app.post(
    '/v1/auth/totp/enrol',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Start setting up two-factor sign-in: a new authenticator secret and its QR code',
        description:
          'With the challenge of a sign-in that requires it, or as a signed-in staff member (no challenge).',
        body: TotpEnrolBody,
        response: { 200: TotpEnrolResponse, ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request) => signIn.enrol({ challenge: request.body?.challenge, principal: request.principal }),
  );

  app.post(
    '/v1/auth/totp/confirm',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Finish setting up two-factor sign-in with a first code; returns the recovery codes',
        body: TotpConfirmBody,
        response: { 200: TotpConfirmResponse, ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request) =>
      signIn.confirm(
        { challenge: request.body.challenge, principal: request.principal },
        request.body.code,
        requestOrigin(request),
      ),
  );

  app.delete(
    '/v1/me/totp',
    {
      preHandler: staffOnly,
      schema: {
        tags: ['auth'],
        summary: 'Turn two-factor sign-in off (roles that do not require it), with a current code',
        security: [{ bearer: [] }],
        body: TotpRemoveBody,
        response: { 204: T.Null(), ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      await signIn.remove(principalOf(request), request.body.code, requestOrigin(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/auth/password-links/:token',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Whose set-password link this is, while it can be used',
        params: PasswordLinkParams,
        response: { 200: PasswordLinkResponse, ...errorResponses(400, 404, 410, 429) },
      },
    },
    async (request) => {
      const link = await findPasswordLink(db, request.params.token);
      return {
        login: link.login,
        displayName: link.displayName,
        purpose: link.purpose,
        expiresAt: link.expiresAt.toISOString(),
      };
    },
  );

  app.post(
    '/v1/auth/password',
    {
      config: authLimit,
      schema: {
        tags: ['auth'],
        summary: 'Set a password with a one-time link; every session of the account ends',
        body: SetPasswordBody,
        response: { 204: T.Null(), ...errorResponses(400, 404, 410, 422, 429) },
      },
    },
    async (request, reply) => {
      await setPasswordWithLink(db, request.body.token, request.body.password, requestOrigin(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/me/password',
    {
      config: authLimit,
      preHandler: staffOnly,
      schema: {
        tags: ['auth'],
        summary: 'Change your own password; your other sessions end',
        security: [{ bearer: [] }],
        body: ChangePasswordBody,
        response: { 204: T.Null(), ...errorResponses(400, 401, 403, 422, 429) },
      },
    },
    async (request, reply) => {
      const me = principalOf(request);
      const names = await staffNames(db, me.id);
      if (!names) throw new AppError('UNAUTHENTICATED');
      await changeOwnPassword(
        db,
        { staffId: me.id, sessionId: me.sid, login: names.login, displayName: names.display_name },
        request.body.currentPassword,
        request.body.newPassword,
        requestOrigin(request),
        opts.config,
      );
      return reply.status(204).send(null);
    },
  );
}
