import { type AuditAction, audit } from '../audit/audit.js';
import type { Config } from '../platform/config/config.js';
import { type Pool, type Queryable, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { hmac, type Keys } from '../platform/security/keys.js';
import type { TokenResponse } from './auth.schema.js';
import { STAFF_ROLES } from './guard.js';
import { openSession, type SessionDeps } from './sessions.js';
import { type ChallengeKind, issueChallenge, readChallenge } from './sign-in-challenge.js';
import {
  beginSignInAttempt,
  clearSignInFailures,
  type SignInAttempt,
  type ThrottleConfig,
} from './sign-in-throttle.js';
import {
  activeSignInAccount,
  checkStaffPassword,
  markSignedIn,
  normaliseLogin,
  type SignInAccount,
  staffIdByLogin,
} from './staff.js';
import type { Principal, StaffRole } from './tokens.js';
import {
  acceptTotpStep,
  activateTotp,
  matchTotp,
  newTotpSecret,
  otpauthUri,
  qrSvg,
  resetTotp,
  storePendingSecret,
  totpRequiredRoles,
  totpState,
  useRecoveryCode,
} from './totp.js';

export interface StaffSignInDeps {
  db: Pool;
  keys: Keys;
  config: ThrottleConfig & Pick<Config, 'TOTP_REQUIRED_ROLES'> & SessionDeps['config'];
  /** The progressive delay's wait (tests replace it). */
  sleep?: (ms: number) => Promise<unknown>;
}

export interface RequestContext {
  ip?: string;
  userAgent?: string;
}

export type LoginResult =
  | ({ status: 'signed_in' } & TokenResponse)
  | { status: 'totp_required' | 'totp_enrolment_required'; challenge: string; challengeExpiresAt: string };

/** Staff sign-in: password, then (where enrolled or required) an authenticator code, with throttling and audit. */
export class StaffSignIn {
  private readonly required: ReadonlySet<StaffRole>;
  private readonly sessions: SessionDeps;

  constructor(private readonly deps: StaffSignInDeps) {
    this.required = totpRequiredRoles(deps.config);
    this.sessions = { keys: deps.keys, config: deps.config };
  }

  /** POST /v1/auth/login. Every refusal is the same LOGIN_INVALID; the audit log keeps the reason. */
  async login(login: string, password: string, ctx: RequestContext): Promise<LoginResult> {
    const { db, keys } = this.deps;
    const attempt = await this.attempt(login, null, ctx);
    const result = await checkStaffPassword(db, login, password);
    if (!result.ok) {
      await this.failed('sign_in_failed', result.staffId ?? null, login, result.reason, attempt, ctx);
      throw new AppError('LOGIN_INVALID');
    }
    const member = result.member;
    // The failure count stays until the second factor is given too: a known password alone does not reset it.
    if (member.totpEnrolled)
      return {
        status: 'totp_required',
        ...issueChallenge(keys.challenge, {
          staffId: member.id,
          kind: 'totp',
          passwordStamp: member.passwordStamp,
        }),
      };
    if (this.required.has(member.role))
      return {
        status: 'totp_enrolment_required',
        ...issueChallenge(keys.challenge, {
          staffId: member.id,
          kind: 'enrol',
          passwordStamp: member.passwordStamp,
        }),
      };
    return { status: 'signed_in', ...(await this.complete(member, 'password', ctx)) };
  }

  /** POST /v1/auth/login/totp: the second step, with a code from the authenticator or a recovery code. */
  async loginWithCode(
    challenge: string,
    proof: { code: string } | { recoveryCode: string },
    ctx: RequestContext,
  ): Promise<LoginResult> {
    const member = await this.challenged(challenge, 'totp');
    if (!member.totpEnrolled) throw new AppError('CHALLENGE_INVALID', { field: 'challenge' });
    const attempt = await this.attempt(member.login, member.id, ctx);
    if ('code' in proof) {
      if (!(await this.codeAccepted(member.id, proof.code))) {
        await this.failed('totp_failed', member.id, member.login, 'wrong_totp', attempt, ctx);
        throw new AppError('TOTP_INVALID', { field: 'code' });
      }
      return { status: 'signed_in', ...(await this.complete(member, 'totp', ctx)) };
    }
    return withTransactionOr(this.deps.db, async (trx) => {
      const remaining = await useRecoveryCode(trx, member.id, proof.recoveryCode);
      if (remaining === null) return null;
      await audit(trx, {
        actorId: member.id,
        action: 'recovery_code_used',
        targetKind: 'staff',
        targetId: member.id,
        detail: { remaining },
        ...ctx,
      });
      return { status: 'signed_in' as const, ...(await this.complete(member, 'recovery_code', ctx, trx)) };
    }).then(async (signedIn) => {
      if (signedIn) return signedIn;
      await this.failed('totp_failed', member.id, member.login, 'wrong_recovery_code', attempt, ctx);
      throw new AppError('RECOVERY_CODE_INVALID', { field: 'recoveryCode' });
    });
  }

  /** POST /v1/auth/totp/enrol: a new secret, pending until a first code confirms it. */
  async enrol(who: {
    challenge?: string | undefined;
    principal: Principal | null;
  }): Promise<{ secret: string; otpauthUri: string; qrSvg: string }> {
    const member = await this.enrollee(who);
    const secret = newTotpSecret();
    if (!(await storePendingSecret(this.deps.db, this.deps.keys.totpEnc, member.id, secret)))
      throw new AppError('TOTP_ALREADY_ENROLLED');
    const uri = otpauthUri(member.login, secret);
    return { secret, otpauthUri: uri, qrSvg: await qrSvg(uri) };
  }

  /**
   * POST /v1/auth/totp/confirm: the first code makes the secret active and returns the recovery codes (shown once);
   * from a sign-in challenge it also signs the person in.
   */
  async confirm(
    who: { challenge?: string | undefined; principal: Principal | null },
    code: string,
    ctx: RequestContext,
  ): Promise<{ recoveryCodes: string[]; session?: TokenResponse }> {
    const member = await this.enrollee(who);
    const { db, keys } = this.deps;
    const state = await totpState(db, keys.totpEnc, member.id);
    if (!state.secret || !state.secretEnc) throw new AppError('TOTP_NOT_STARTED');
    const secretEnc = state.secretEnc;
    const attempt = who.challenge ? await this.attempt(member.login, member.id, ctx) : null;
    const step = await matchTotp(state.secret, code);
    const done =
      step === null
        ? null
        : await withTransactionOr(db, async (trx) => {
            const recoveryCodes = await activateTotp(trx, member.id, secretEnc, step);
            if (!recoveryCodes) return null;
            await audit(trx, {
              actorId: member.id,
              action: 'totp_enrolled',
              targetKind: 'staff',
              targetId: member.id,
              ...ctx,
            });
            if (!who.challenge) return { recoveryCodes };
            return { recoveryCodes, session: await this.complete(member, 'totp_enrolment', ctx, trx) };
          });
    if (!done) {
      await this.failed('totp_failed', member.id, member.login, 'wrong_totp', attempt, ctx);
      throw new AppError('TOTP_INVALID', { field: 'code' });
    }
    return done;
  }

  /** DELETE /v1/me/totp: turns two-factor sign-in off, for a role that does not require it, with a current code. */
  async remove(principal: Principal, code: string, ctx: RequestContext): Promise<void> {
    const member = await activeSignInAccount(this.deps.db, principal.id);
    if (!member) throw new AppError('UNAUTHENTICATED');
    if (this.required.has(member.role)) throw new AppError('TOTP_REQUIRED');
    if (!member.totpEnrolled) throw new AppError('TOTP_NOT_STARTED');
    const attempt = await this.attempt(member.login, member.id, ctx);
    if (!(await this.codeAccepted(member.id, code))) {
      await this.failed('totp_failed', member.id, member.login, 'wrong_totp', attempt, ctx);
      throw new AppError('TOTP_INVALID', { field: 'code' });
    }
    await withTransaction(this.deps.db, async (trx) => {
      await resetTotp(trx, member.id);
      await clearSignInFailures(trx, member.login);
      await audit(trx, {
        actorId: member.id,
        action: 'totp_removed',
        targetKind: 'staff',
        targetId: member.id,
        ...ctx,
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** Counts the attempt and waits the progressive delay; a locked login is audited and refused. */
  private async attempt(login: string, staffId: string | null, ctx: RequestContext): Promise<SignInAttempt> {
    try {
      return await beginSignInAttempt(this.deps.db, login, this.deps.config, this.deps.sleep);
    } catch (err) {
      if (err instanceof AppError && err.code === 'SIGN_IN_LOCKED')
        await this.failed(
          'sign_in_failed',
          staffId ?? (await staffIdByLogin(this.deps.db, login)),
          login,
          'locked',
          null,
          ctx,
        );
      throw err;
    }
  }

  private async codeAccepted(staffId: string, code: string): Promise<boolean> {
    const state = await totpState(this.deps.db, this.deps.keys.totpEnc, staffId);
    if (!state.secret || !state.enrolled) return false;
    const step = await matchTotp(state.secret, code);
    return step !== null && (await acceptTotpStep(this.deps.db, staffId, step));
  }

  private async challenged(challenge: string, kind: ChallengeKind): Promise<SignInAccount> {
    const { staffId, passwordStamp } = readChallenge(this.deps.keys.challenge, challenge, kind);
    const member = await activeSignInAccount(this.deps.db, staffId);
    // Disabled, or the password changed since the challenge was given.
    if (!member || member.passwordStamp !== passwordStamp)
      throw new AppError('CHALLENGE_INVALID', { field: 'challenge' });
    return member;
  }

  /** Who is enrolling: the person a sign-in challenge names, or the signed-in staff member. */
  private async enrollee(who: { challenge?: string | undefined; principal: Principal | null }) {
    let member: SignInAccount | null;
    if (who.challenge) member = await this.challenged(who.challenge, 'enrol');
    // Only a signed-in staff member may go without the challenge.
    else if (!who.principal || !STAFF_ROLES.includes(who.principal.role))
      throw new AppError('VALIDATION_FAILED', {
        field: 'challenge',
        message: 'challenge: give the sign-in challenge, or sign in as staff first',
      });
    else member = await activeSignInAccount(this.deps.db, who.principal.id);
    if (!member) throw new AppError('UNAUTHENTICATED');
    if (member.totpEnrolled) throw new AppError('TOTP_ALREADY_ENROLLED');
    return member;
  }

  /** Signs the person in: a session, the failure count cleared, the sign-in recorded. */
  private async complete(
    member: SignInAccount,
    method: 'password' | 'totp' | 'recovery_code' | 'totp_enrolment',
    ctx: RequestContext,
    trx?: Queryable,
  ): Promise<TokenResponse> {
    const run = async (db: Queryable) => {
      await clearSignInFailures(db, member.login);
      await markSignedIn(db, member.id);
      const tokens = await openSession(db, this.sessions, { subjectId: member.id, role: member.role }, ctx);
      await audit(db, {
        actorId: member.id,
        action: 'sign_in',
        targetKind: 'staff',
        targetId: member.id,
        detail: { method, sessionId: tokens.sessionId },
        ...ctx,
      });
      return tokens;
    };
    return trx ? run(trx) : withTransaction(this.deps.db, run);
  }

  private async failed(
    action: Extract<AuditAction, 'sign_in_failed' | 'totp_failed'>,
    staffId: string | null,
    login: string,
    reason: string,
    attempt: SignInAttempt | null,
    ctx: RequestContext,
  ): Promise<void> {
    await audit(this.deps.db, {
      actorId: staffId,
      action,
      outcome: 'failed',
      targetKind: 'staff',
      ...(staffId ? { targetId: staffId } : {}),
      detail: {
        reason,
        // The login as typed only when it names an account: what someone typed into the login field may be their
        // password, and staff read this log. An unknown one is kept as a keyed hash, so repeated guesses at one
        // name can still be grouped.
        ...(staffId
          ? { login: normaliseLogin(login).slice(0, 64) }
          : { loginHash: auditLoginHash(this.deps.keys, login) }),
        ...(attempt ? { failures: attempt.priorFailures + 1, delayMs: attempt.delayMs } : {}),
      },
      ...ctx,
    });
  }
}

/** How a failed sign-in with an unknown login names it in the audit log (never in clear). */
export function auditLoginHash(keys: Pick<Keys, 'challenge'>, login: string): string {
  return hmac(keys.challenge, 'audit-login', normaliseLogin(login)).toString('hex').slice(0, 16);
}

/** Runs `fn` in a transaction that is rolled back when it returns null. */
async function withTransactionOr<T>(
  pool: Pool,
  fn: (trx: Queryable) => Promise<T | null>,
): Promise<T | null> {
  const rollback = new Error('rollback');
  try {
    return await withTransaction(pool, async (trx) => {
      const r = await fn(trx);
      if (r === null) throw rollback;
      return r;
    });
  } catch (err) {
    if (err === rollback) return null;
    throw err;
  }
}
