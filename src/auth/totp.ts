import { createHash, randomInt } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { Config } from '../platform/config/config.js';
import type { Queryable } from '../platform/db/pool.js';
import { decrypt, encrypt } from '../platform/security/keys.js';
import type { StaffRole } from './tokens.js';

/**
 * Two-factor sign-in for staff: RFC 6238 codes (SHA-1, 6 digits, 30 s — what every authenticator app speaks) from a
 * secret kept encrypted in staff.totp_secret_enc, and ten single-use recovery codes kept as SHA-256.
 */
export const TOTP_PERIOD = 30;
export const RECOVERY_CODE_COUNT = 10;
const ISSUER = 'Jarima';

/** Parses TOTP_REQUIRED_ROLES ("none": no role). */
export function totpRequiredRoles(config: Pick<Config, 'TOTP_REQUIRED_ROLES'>): ReadonlySet<StaffRole> {
  return new Set(
    config.TOTP_REQUIRED_ROLES.split(',')
      .map((s) => s.trim())
      .filter((r) => r && r !== 'none') as StaffRole[],
  );
}

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function otpauthUri(login: string, secret: string): string {
  return generateURI({
    issuer: ISSUER,
    label: login,
    secret,
    algorithm: 'sha1',
    digits: 6,
    period: TOTP_PERIOD,
  });
}

export function qrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/**
 * The time step `code` was made for, within one step either side of now (clock drift), or null. Refusing a replay
 * is the caller's: a step at or before the last accepted one (see `acceptTotpStep`).
 */
export async function matchTotp(secret: string, code: string, nowMs = Date.now()): Promise<number | null> {
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(nowMs / 1000),
    period: TOTP_PERIOD,
    epochTolerance: TOTP_PERIOD,
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}

// --- storage -----------------------------------------------------------------------------------------------------

export interface TotpState {
  /** The secret, enrolled or pending confirmation. */
  secret: string | null;
  /** The secret as stored: `activateTotp` activates only this one, not one a later enrolment put in its place. */
  secretEnc: Buffer | null;
  enrolled: boolean;
  lastStep: number | null;
}

export async function totpState(db: Queryable, key: Buffer, staffId: string): Promise<TotpState> {
  const { rows } = await db.query<{
    totp_secret_enc: Buffer | null;
    totp_enrolled_at: Date | null;
    totp_last_step: string | null;
  }>('select totp_secret_enc, totp_enrolled_at, totp_last_step from staff where id = $1', [staffId]);
  const r = rows[0];
  return {
    secret: r?.totp_secret_enc ? decrypt(key, r.totp_secret_enc) : null,
    secretEnc: r?.totp_secret_enc ?? null,
    enrolled: Boolean(r?.totp_enrolled_at),
    lastStep: r?.totp_last_step == null ? null : Number(r.totp_last_step),
  };
}

/** Keeps a new secret, not yet active, until a first code confirms it (replacing any unconfirmed one). */
export async function storePendingSecret(
  db: Queryable,
  key: Buffer,
  staffId: string,
  secret: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `update staff set totp_secret_enc = $2, totp_last_step = null, updated_at = now()
      where id = $1 and totp_enrolled_at is null`,
    [staffId, encrypt(key, secret)],
  );
  return rowCount === 1;
}

/**
 * Records `step` as used; false when it (or a later one) already was — the same code presented twice, or by two
 * requests at once: the single UPDATE decides.
 */
export async function acceptTotpStep(db: Queryable, staffId: string, step: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `update staff set totp_last_step = $2
      where id = $1 and (totp_last_step is null or totp_last_step < $2)`,
    [staffId, step],
  );
  return rowCount === 1;
}

/** Makes the pending secret active from `step` on and returns ten fresh recovery codes (the old ones stop working). */
export async function activateTotp(
  db: Queryable,
  staffId: string,
  secretEnc: Buffer,
  step: number,
): Promise<string[] | null> {
  const { rowCount } = await db.query(
    `update staff set totp_enrolled_at = now(), totp_last_step = $2, updated_at = now()
      where id = $1 and totp_enrolled_at is null and totp_secret_enc = $3
        and (totp_last_step is null or totp_last_step < $2)`,
    [staffId, step, secretEnc],
  );
  if (rowCount !== 1) return null;
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await db.query('delete from staff_recovery_codes where staff_id = $1', [staffId]);
  await db.query(
    `insert into staff_recovery_codes (staff_id, code_hash)
     select $1, h from unnest($2::bytea[]) as h`,
    [staffId, codes.map(recoveryHash)],
  );
  return codes;
}

/** Spends a recovery code: how many are left, or null when it is not one of the unused ones. */
export async function useRecoveryCode(db: Queryable, staffId: string, code: string): Promise<number | null> {
  const canonical = canonicalRecoveryCode(code);
  if (!canonical) return null;
  const { rowCount } = await db.query(
    `update staff_recovery_codes set used_at = now()
      where staff_id = $1 and code_hash = $2 and used_at is null`,
    [staffId, recoveryHash(canonical)],
  );
  if (rowCount !== 1) return null;
  const { rows } = await db.query<{ left: number }>(
    'select count(*)::int as left from staff_recovery_codes where staff_id = $1 and used_at is null',
    [staffId],
  );
  return rows[0]?.left ?? 0;
}

/** Removes two-factor sign-in from an account (a lost phone, or the owner turning it off where that is allowed). */
export async function resetTotp(db: Queryable, staffId: string): Promise<void> {
  await db.query(
    `update staff set totp_secret_enc = null, totp_enrolled_at = null, totp_last_step = null, updated_at = now()
      where id = $1`,
    [staffId],
  );
  await db.query('delete from staff_recovery_codes where staff_id = $1', [staffId]);
}

// --- recovery codes ----------------------------------------------------------------------------------------------

// No 0/o, 1/l/i: read off paper without doubt. 31 symbols × 12 ≈ 59 bits.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

function newRecoveryCode(): string {
  const c = Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${c.slice(0, 4)}-${c.slice(4, 8)}-${c.slice(8)}`;
}

/** `ABCD-efgh-jkmn`, `abcd efgh jkmn` and `abcdefghjkmn` are one code; anything else is none. */
function canonicalRecoveryCode(input: string): string | null {
  const c = input.toLowerCase().replace(/[\s-]/g, '');
  if (c.length !== 12 || [...c].some((ch) => !ALPHABET.includes(ch))) return null;
  return `${c.slice(0, 4)}-${c.slice(4, 8)}-${c.slice(8)}`;
}

const recoveryHash = (code: string) => createHash('sha256').update(code).digest();
