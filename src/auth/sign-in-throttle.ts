import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Config } from '../platform/config/config.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { normaliseLogin } from './staff.js';

export type ThrottleConfig = Pick<
  Config,
  'SIGN_IN_FREE_FAILURES' | 'SIGN_IN_LOCK_FAILURES' | 'SIGN_IN_LOCK_MINUTES' | 'SIGN_IN_MAX_DELAY_MS'
>;

/** The wait before answering an attempt that follows `failures` failures: 0 for the free ones, then 1 s, 2 s, 4 s … */
export function signInDelayMs(failures: number, config: ThrottleConfig): number {
  const over = failures - config.SIGN_IN_FREE_FAILURES;
  if (over < 0) return 0;
  return Math.min(1000 * 2 ** Math.min(over, 20), 30_000, config.SIGN_IN_MAX_DELAY_MS);
}

export interface SignInAttempt {
  /** Failures counted before this attempt (it counts as one until it succeeds). */
  priorFailures: number;
  /** How long the caller waited before the attempt was checked. */
  delayMs: number;
}

/**
 * Counts one attempt for `login` before its password or code is checked, so parallel guesses cannot outrun the
 * count, then waits the progressive delay. The attempt that reaches SIGN_IN_LOCK_FAILURES locks the login for
 * SIGN_IN_LOCK_MINUTES (a success clears it all, see `clearSignInFailures`); while locked every attempt is
 * refused with 429 SIGN_IN_LOCKED and Retry-After, without being checked. Failures older than the lock period are
 * forgotten, and so are those before an expired lock. Unknown logins are counted the same way.
 */
export async function beginSignInAttempt(
  db: Queryable,
  login: string,
  config: ThrottleConfig,
  sleep: (ms: number) => Promise<unknown> = sleepFor,
): Promise<SignInAttempt> {
  const { rows } = await db.query<{ failures: number }>(
    `insert into sign_in_failures as f (login, failures, last_failed_at, locked_until)
     values ($1, 1, now(), case when $2 <= 1 then now() + make_interval(mins => $3) end)
     on conflict (login) do update set
       failures = case when f.locked_until is not null or f.last_failed_at < now() - make_interval(mins => $3)
                       then 1 else f.failures + 1 end,
       last_failed_at = now(),
       locked_until = case
         when (case when f.locked_until is not null or f.last_failed_at < now() - make_interval(mins => $3)
                    then 1 else f.failures + 1 end) >= $2
         then now() + make_interval(mins => $3) end
     where f.locked_until is null or f.locked_until <= now()
     returning failures`,
    [normaliseLogin(login), config.SIGN_IN_LOCK_FAILURES, config.SIGN_IN_LOCK_MINUTES],
  );
  const row = rows[0];
  if (!row) throw await lockedError(db, login);
  const priorFailures = row.failures - 1;
  const delayMs = signInDelayMs(priorFailures, config);
  if (delayMs > 0) await sleep(delayMs);
  return { priorFailures, delayMs };
}

async function lockedError(db: Queryable, login: string): Promise<AppError> {
  const { rows } = await db.query<{ seconds: number }>(
    `select greatest(1, ceil(extract(epoch from locked_until - now())))::int as seconds
       from sign_in_failures where login = $1`,
    [normaliseLogin(login)],
  );
  return new AppError('SIGN_IN_LOCKED', { details: { retryAfterSeconds: rows[0]?.seconds ?? 60 } });
}

/** Whether `login` is locked out now (for the administration's account list). */
export async function isSignInLocked(db: Queryable, login: string): Promise<boolean> {
  const { rows } = await db.query(
    'select 1 from sign_in_failures where login = $1 and locked_until > now()',
    [normaliseLogin(login)],
  );
  return rows.length > 0;
}

/** A successful sign-in (or a new password) starts the count again. */
export async function clearSignInFailures(db: Queryable, login: string): Promise<void> {
  await db.query('delete from sign_in_failures where login = $1', [normaliseLogin(login)]);
}

/** Ends a lock-out and forgets the failures, for an administrator. */
export async function unlockSignIn(db: Queryable, login: string): Promise<void> {
  await clearSignInFailures(db, login);
}
