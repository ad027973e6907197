import type { Queryable } from '../platform/db/pool.js';
import type { ReportStatus } from '../reports/status.js';
import type { NotificationEvent } from './catalog.js';

/** Statuses the citizen is told about, and the event each one is. */
const EVENT_OF: Partial<Record<ReportStatus, NotificationEvent>> = {
  awaiting_review: 'accepted',
  rejected: 'rejected',
  duplicate: 'duplicate',
  needs_info: 'needs_info',
  approved: 'approved',
  forwarded: 'forwarded',
  fined: 'fined',
  paid: 'paid',
  rewarded: 'rewarded',
  overturned: 'overturned',
};

/** The PostgreSQL channel the live in-app stream listens on (`GET /v1/me/events`). */
export const CITIZEN_CHANNEL = 'jarima_citizen';

export function notificationEventOf(from: ReportStatus, to: ReportStatus): NotificationEvent | null {
  // A report that goes back to waiting for review (a lapsed lease) was already "accepted" once.
  if (from === to || (to === 'awaiting_review' && from === 'in_review')) return null;
  return EVENT_OF[to] ?? null;
}

/**
 * Inside a transition's transaction: one notification row per report, event and channel the citizen chose (the
 * unique key makes a repeated transition add nothing), the in-app one already delivered, announced on
 * CITIZEN_CHANNEL — NOTIFY is transactional, so the live stream never hears of a change that was rolled back.
 * Returns whether any SMS or e-mail now waits for the notify sweep.
 */
export async function queueNotifications(
  trx: Queryable,
  items: { reportId: string; event: NotificationEvent }[],
): Promise<boolean> {
  if (items.length === 0) return false;
  const { rows } = await trx.query<{ outbound: number }>(
    `with v as (select * from unnest($1::uuid[], $2::text[]) as v(report_id, event)),
     ins as (
       insert into notifications (report_id, citizen_id, event, channel, status, sent_at)
       select r.id, r.citizen_id, v.event, ch.channel,
              case when ch.channel = 'inapp' then 'sent' else 'pending' end,
              case when ch.channel = 'inapp' then now() end
         from v join reports r on r.id = v.report_id join citizens c on c.id = r.citizen_id
         cross join (values ('inapp'), ('sms'), ('email')) as ch(channel)
        where ch.channel = 'inapp' or (ch.channel = 'sms' and c.notify_sms)
           or (ch.channel = 'email' and c.notify_email and c.email_enc is not null)
       on conflict (report_id, event, channel) do nothing
       returning id, citizen_id, report_id, event, channel, created_at),
     told as (
       select pg_notify('${CITIZEN_CHANNEL}', json_build_object(
                'id', id, 'citizenId', citizen_id, 'reportId', report_id, 'event', event, 'at', created_at)::text)
         from ins where channel = 'inapp')
     select (select count(*) from ins where channel <> 'inapp')::int as outbound,
            (select count(*) from told)::int as announced`,
    [items.map((i) => i.reportId), items.map((i) => i.event)],
  );
  return (rows[0]?.outbound ?? 0) > 0;
}
