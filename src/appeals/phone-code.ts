import { randomInt } from 'node:crypto';
import type { SmsGateway } from '../integrations/sms/port.js';
import type { Config } from '../platform/config/config.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { AppError, toError } from '../platform/errors/catalog.js';
import { hmac, type Keys, safeEqual } from '../platform/security/keys.js';
import type { DriverLang } from './appeals.schema.js';

const CODE_SMS: Record<DriverLang, (code: string, minutes: number) => string> = {
  uz: (c, m) => `Jarima: shikoyatni tasdiqlash kodi ${c}. ${m} daqiqa amal qiladi.`,
  ru: (c, m) => `Jarima: код подтверждения жалобы ${c}. Действует ${m} мин.`,
  en: (c, m) => `Jarima: your appeal confirmation code is ${c}. It expires in ${m} min.`,
};

export interface PhoneCodeDeps {
  pool: Pool;
  keys: Pick<Keys, 'phoneHash' | 'otp'>;
  sms: SmsGateway;
  config: Pick<Config, 'OTP_TTL_SECONDS' | 'OTP_MAX_ATTEMPTS' | 'OTP_RESEND_SECONDS' | 'OTP_MAX_PER_HOUR'>;
}

export const phoneHashOf = (keys: Pick<Keys, 'phoneHash'>, phone: string) => hmac(keys.phoneHash, phone);
// Bound to the case as well as the phone: a code sent for one case confirms nothing about another.
const codeHash = (keys: Pick<Keys, 'otp'>, reportId: string, phoneHash: Buffer, code: string) =>
  hmac(keys.otp, 'appeal', reportId, phoneHash, code);

/**
 * Sends a 6-digit code confirming the appeal's contact phone, with the sign-in codes' limits (resend gap, codes an
 * hour) counted per case, so a looked-up case cannot be used to flood a number or to send many codes at once.
 */
export async function sendAppealPhoneCode(
  deps: PhoneCodeDeps,
  reportId: string,
  phone: string,
  lang: DriverLang = 'uz',
): Promise<{ expiresInSeconds: number }> {
  const { pool, keys, config } = deps;
  const { rows } = await pool.query<{ last: Date | null; n: number }>(
    `select max(created_at) as last, count(*)::int as n
       from appeal_phone_codes where report_id = $1 and created_at > now() - interval '1 hour'`,
    [reportId],
  );
  const recent = rows[0]!;
  if (recent.last && Date.now() - recent.last.getTime() < config.OTP_RESEND_SECONDS * 1000)
    throw new AppError('OTP_TOO_SOON', { details: { retryAfterSeconds: config.OTP_RESEND_SECONDS } });
  if (recent.n >= config.OTP_MAX_PER_HOUR)
    throw new AppError('OTP_LIMIT_REACHED', { details: { retryAfterSeconds: 3600 } });
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const ph = phoneHashOf(keys, phone);
  const { rows: inserted } = await pool.query<{ id: number }>(
    `insert into appeal_phone_codes (report_id, phone_hash, code_hash, expires_at)
     values ($1, $2, $3, now() + make_interval(secs => $4)) returning id`,
    [reportId, ph, codeHash(keys, reportId, ph, code), config.OTP_TTL_SECONDS],
  );
  try {
    await deps.sms.send(phone, CODE_SMS[lang](code, Math.round(config.OTP_TTL_SECONDS / 60)));
  } catch (err) {
    await pool.query('delete from appeal_phone_codes where id = $1', [inserted[0]!.id]);
    throw new AppError('SMS_UNAVAILABLE', { cause: toError(err) });
  }
  return { expiresInSeconds: config.OTP_TTL_SECONDS };
}

/**
 * Checks a code against the newest live code for this case and phone, in a transaction of its own so a wrong guess
 * stays counted: after OTP_MAX_ATTEMPTS the code is dead; the right one is consumed (single use). Throws
 * OTP_INVALID / OTP_ATTEMPTS_EXCEEDED.
 */
export async function confirmAppealPhone(
  deps: Pick<PhoneCodeDeps, 'pool' | 'keys' | 'config'>,
  reportId: string,
  phone: string,
  code: string,
): Promise<void> {
  const ph = phoneHashOf(deps.keys, phone);
  const outcome = await withTransaction(deps.pool, async (trx) => {
    const { rows } = await trx.query<{ id: number; code_hash: Buffer; attempts: number }>(
      `select id, code_hash, attempts from appeal_phone_codes
        where report_id = $1 and phone_hash = $2 and consumed_at is null and expires_at > now()
        order by created_at desc limit 1 for update`,
      [reportId, ph],
    );
    const live = rows[0];
    if (!live) return 'invalid' as const;
    if (live.attempts >= deps.config.OTP_MAX_ATTEMPTS) return 'exhausted' as const;
    if (!safeEqual(live.code_hash, codeHash(deps.keys, reportId, ph, code))) {
      await trx.query('update appeal_phone_codes set attempts = attempts + 1 where id = $1', [live.id]);
      return live.attempts + 1 >= deps.config.OTP_MAX_ATTEMPTS
        ? ('exhausted' as const)
        : ('invalid' as const);
    }
    await trx.query('update appeal_phone_codes set consumed_at = now() where id = $1', [live.id]);
    return 'ok' as const;
  });
  if (outcome === 'invalid') throw new AppError('OTP_INVALID', { field: 'code' });
  if (outcome === 'exhausted') throw new AppError('OTP_ATTEMPTS_EXCEEDED', { field: 'code' });
}
