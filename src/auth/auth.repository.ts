import type { Queryable } from '../platform/db/pool.js';

/** The citizen's phone, encrypted (null when there is no such citizen). */
export async function citizenPhoneEnc(db: Queryable, citizenId: string): Promise<Buffer | null> {
  const { rows } = await db.query<{ phone_enc: Buffer }>('select phone_enc from citizens where id = $1', [
    citizenId,
  ]);
  return rows[0]?.phone_enc ?? null;
}

/** A staff member's login, display name and whether TOTP is on, active or not (null when there is no such member). */
export async function staffNames(
  db: Queryable,
  staffId: string,
): Promise<{ login: string; display_name: string; totp_enrolled: boolean } | null> {
  const { rows } = await db.query<{ login: string; display_name: string; totp_enrolled: boolean }>(
    'select login, display_name, totp_enrolled_at is not null as totp_enrolled from staff where id = $1',
    [staffId],
  );
  return rows[0] ?? null;
}
