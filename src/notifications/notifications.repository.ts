import type { Queryable } from '../platform/db/pool.js';

export interface ChannelSettingsRow {
  notify_sms: boolean;
  notify_email: boolean;
  /** The e-mail address, encrypted like the phone. */
  email_enc: Buffer | null;
  language: 'uz' | 'ru' | 'en';
}

export async function findChannelSettings(
  db: Queryable,
  citizenId: string,
): Promise<ChannelSettingsRow | null> {
  const { rows } = await db.query<ChannelSettingsRow>(
    'select notify_sms, notify_email, email_enc, language from citizens where id = $1',
    [citizenId],
  );
  return rows[0] ?? null;
}

export async function saveChannelSettings(
  db: Queryable,
  citizenId: string,
  s: ChannelSettingsRow,
): Promise<void> {
  await db.query(
    `update citizens set notify_sms = $2, notify_email = $3, email_enc = $4, language = $5 where id = $1`,
    [citizenId, s.notify_sms, s.notify_email, s.email_enc, s.language],
  );
}

/** The citizen's in-app notifications after `afterId`, oldest first: what a reconnecting stream missed. */
export async function inAppNotificationsAfter(
  db: Queryable,
  citizenId: string,
  afterId: number,
  limit: number,
): Promise<{ id: number; report_id: string; event: string; created_at: Date }[]> {
  const { rows } = await db.query<{ id: number; report_id: string; event: string; created_at: Date }>(
    `select id, report_id, event, created_at from notifications
      where citizen_id = $1 and channel = 'inapp' and id > $2 order by id limit $3`,
    [citizenId, afterId, limit],
  );
  return rows;
}
