import { randomInt } from 'node:crypto';
import type { SmsGateway } from '../integrations/sms/port.js';
import type { Config } from '../platform/config/config.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { AppError, toError } from '../platform/errors/catalog.js';
import { newId } from '../platform/ids.js';
import { encrypt, hmac, type Keys, safeEqual } from '../platform/security/keys.js';

export interface OtpDeps {
  pool: Pool;
  keys: Keys;
  sms: SmsGateway;
  config: Pick<Config, 'OTP_TTL_SECONDS' | 'OTP_MAX_ATTEMPTS' | 'OTP_RESEND_SECONDS' | 'OTP_MAX_PER_HOUR'>;
}

const phoneHash = (keys: Keys, phone: string) => hmac(keys.phoneHash, phone);
const codeHash = (keys: Keys, hashOfPhone: Buffer, code: string) => hmac(keys.otp, hashOfPhone, code);

/**
 * Sends a fresh 6-digit code. Only its HMAC is stored. The per-phone limits (resend gap, codes per hour) are
 * counted in the database so they hold across processes; the per-address limit is the HTTP rate limiter's.
 */
export async function requestOtp(
  deps: OtpDeps,
  phone: string,
  ip: string,
): Promise<{ expiresInSeconds: number }> {
  const { pool, keys, config } = deps;
  const ph = phoneHash(keys, phone);
  const { rows } = await pool.query<{ last: Date | null; n: number }>(
    `select max(created_at) as last, count(*)::int as n
       from otp_codes where phone_hash = $1 and created_at > now() - interval '1 hour'`,
    [ph],
  );
  const recent = rows[0]!;
  if (recent.last && Date.now() - recent.last.getTime() < config.OTP_RESEND_SECONDS * 1000) {
    throw new AppError('OTP_TOO_SOON', { details: { retryAfterSeconds: config.OTP_RESEND_SECONDS } });
  }
  if (recent.n >= config.OTP_MAX_PER_HOUR)
    throw new AppError('OTP_LIMIT_REACHED', { details: { retryAfterSeconds: 3600 } });

  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const { rows: inserted } = await pool.query<{ id: number }>(
    `insert into otp_codes (phone_hash, code_hash, ip, expires_at)
     values ($1, $2, $3, now() + make_interval(secs => $4)) returning id`,
    [ph, codeHash(keys, ph, code), ip, config.OTP_TTL_SECONDS],
  );
  try {
    await deps.sms.send(
      phone,
      `Jarima: your sign-in code is ${code}. It expires in ${Math.round(config.OTP_TTL_SECONDS / 60)} min. Do not share it.`,
    );
  } catch (err) {
    // The citizen never got this code: drop it so it neither counts against their limits nor stays guessable.
    await pool.query('delete from otp_codes where id = $1', [inserted[0]!.id]);
    throw new AppError('SMS_UNAVAILABLE', { cause: toError(err) });
  }
  return { expiresInSeconds: config.OTP_TTL_SECONDS };
}

/**
 * Checks a code against the newest live code for the phone. Every wrong guess is counted on that code; after
 * OTP_MAX_ATTEMPTS it is dead. The right code is consumed (single use) and the citizen row is created on first
 * sign-in.
 */
export async function verifyOtp(deps: OtpDeps, phone: string, code: string): Promise<{ citizenId: string }> {
  const { keys, config } = deps;
  const ph = phoneHash(keys, phone);
  const outcome = await withTransaction(deps.pool, async (trx) => {
    const { rows } = await trx.query<{ id: number; code_hash: Buffer; attempts: number }>(
      `select id, code_hash, attempts from otp_codes
        where phone_hash = $1 and consumed_at is null and expires_at > now()
        order by created_at desc limit 1 for update`,
      [ph],
    );
    const live = rows[0];
    if (!live) return 'invalid' as const;
    if (live.attempts >= config.OTP_MAX_ATTEMPTS) return 'exhausted' as const;
    if (!safeEqual(live.code_hash, codeHash(keys, ph, code))) {
      await trx.query('update otp_codes set attempts = attempts + 1 where id = $1', [live.id]);
      return live.attempts + 1 >= config.OTP_MAX_ATTEMPTS ? ('exhausted' as const) : ('invalid' as const);
    }
    await trx.query('update otp_codes set consumed_at = now() where id = $1', [live.id]);
    const { rows: citizen } = await trx.query<{ id: string }>(
      `insert into citizens (id, phone_hash, phone_enc) values ($1, $2, $3)
       on conflict (phone_hash) do update set phone_hash = excluded.phone_hash
       returning id`,
      [newId(), ph, encrypt(keys.phoneEnc, phone)],
    );
    return { citizenId: citizen[0]!.id };
  });
  if (outcome === 'invalid') throw new AppError('OTP_INVALID', { field: 'code' });
  if (outcome === 'exhausted') throw new AppError('OTP_ATTEMPTS_EXCEEDED', { field: 'code' });
  return outcome;
}
