import type { EmailSender } from '../integrations/email/port.js';
import { EmailRejectedError } from '../integrations/email/port.js';
import type { SmsGateway } from '../integrations/sms/port.js';
import { SmsRejectedError } from '../integrations/sms/port.js';
import { enqueueJobs, sweepJob } from '../pipeline/jobs.js';
import type { Config } from '../platform/config/config.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import type { Logger } from '../platform/logger.js';
import { decrypt, type Keys } from '../platform/security/keys.js';
import { REJECTION_REASONS, type RejectionReason } from '../reports/reasons.js';
import type { NotificationEvent } from './catalog.js';
import { type Language, renderEmail, renderSms, type TemplateVars } from './templates.js';

const NOTIFY_BATCH = 50;

export interface NotifyDeps {
  pool: Pool;
  sms: SmsGateway;
  email: EmailSender;
  keys: Keys;
  logger: Logger;
  config: Pick<Config, 'NOTIFY_MAX_ATTEMPTS'>;
}

interface Due {
  id: number;
  event: NotificationEvent;
  channel: 'sms' | 'email';
  attempts: number;
  report_id: string;
  plate: string;
  reason_code: string | null;
  review_note: string | null;
  case_number: string | null;
  fine_amount_sum: number | null;
  reward_sum: number | null;
  language: Language;
  phone_enc: Buffer;
  email_enc: Buffer | null;
}

/**
 * Sends the SMS and e-mails the transitions queued, in the citizen's language. Each row is sent with its own id as
 * the idempotency key, so a send retried after a crash (sent, not yet marked) is recognised downstream; the row is
 * unique per report, event and channel, so no retry or repeated transition queues a second one. A retryable
 * failure waits (exponential backoff) and tries again up to NOTIFY_MAX_ATTEMPTS; a refused one is marked failed.
 */
export async function notifySweep(deps: NotifyDeps): Promise<number> {
  let sent = 0;
  for (;;) {
    const claimed = await withTransaction(deps.pool, async (trx) => {
      const { rows } = await trx.query<Due>(
        `select n.id, n.event, n.channel, n.attempts, r.id as report_id, r.plate, r.reason_code, r.review_note,
                r.case_number, r.fine_amount_sum, r.reward_sum, c.language, c.phone_enc, c.email_enc
           from notifications n join reports r on r.id = n.report_id join citizens c on c.id = n.citizen_id
          where n.status = 'pending' and n.next_attempt_at <= now()
          order by n.next_attempt_at, n.id limit $1 for update of n skip locked`,
        [NOTIFY_BATCH],
      );
      for (const n of rows) {
        const outcome = await send(deps, n);
        if (outcome.ok) {
          sent++;
          await trx.query(
            `update notifications set status = 'sent', sent_at = now(), attempts = attempts + 1, provider_id = $2,
                    last_error = null where id = $1`,
            [n.id, outcome.providerId],
          );
        } else {
          const attempts = n.attempts + 1;
          const final = !outcome.retryable || attempts >= deps.config.NOTIFY_MAX_ATTEMPTS;
          // 2 s, 4 s, 8 s … capped at 10 min, with jitter so a recovering gateway is not hit all at once.
          const delayMs = Math.min(600_000, 2000 * 2 ** (attempts - 1)) * (0.5 + Math.random() / 2);
          await trx.query(
            `update notifications set status = $2, attempts = $3, last_error = $4,
                    next_attempt_at = now() + make_interval(secs => $5) where id = $1`,
            [n.id, final ? 'failed' : 'pending', attempts, outcome.error.slice(0, 500), delayMs / 1000],
          );
        }
      }
      return rows.length;
    });
    if (claimed < NOTIFY_BATCH) break;
  }
  // Retries wait in the table: one pending sweep for the earliest of them.
  const { rows } = await deps.pool.query<{ next: Date | null }>(
    `select min(next_attempt_at) as next from notifications where status = 'pending'`,
  );
  if (rows[0]?.next) {
    await enqueueJobs(deps.pool, [
      {
        ...sweepJob('notify'),
        jobKey: 'notify:retry',
        runAt: new Date(Math.max(Date.now() + 500, rows[0].next.getTime())),
      },
    ]);
  }
  return sent;
}

type Outcome = { ok: true; providerId: string } | { ok: false; retryable: boolean; error: string };

async function send(deps: NotifyDeps, n: Due): Promise<Outcome> {
  let vars: TemplateVars;
  try {
    vars = templateVars(n);
  } catch (err) {
    return { ok: false, retryable: false, error: `template: ${(err as Error).message}` };
  }
  const key = `notification-${n.id}`;
  try {
    if (n.channel === 'sms') {
      const to = decrypt(deps.keys.phoneEnc, n.phone_enc);
      const { messageId } = await deps.sms.send(to, renderSms(n.event, n.language, vars), {
        idempotencyKey: key,
      });
      return { ok: true, providerId: messageId };
    }
    if (!n.email_enc) return { ok: false, retryable: false, error: 'no e-mail address' };
    const to = decrypt(deps.keys.phoneEnc, n.email_enc);
    const { messageId } = await deps.email.send({
      to,
      ...renderEmail(n.event, n.language, vars),
      idempotencyKey: key,
    });
    return { ok: true, providerId: messageId };
  } catch (err) {
    const refused = err instanceof SmsRejectedError || err instanceof EmailRejectedError;
    if (!refused)
      deps.logger.warn({ err, notification: n.id, channel: n.channel }, 'notification send failed');
    return { ok: false, retryable: !refused, error: (err as Error).message ?? String(err) };
  }
}

function templateVars(n: Due): TemplateVars {
  const reason = n.reason_code ? REJECTION_REASONS[n.reason_code as RejectionReason] : undefined;
  return {
    reportShortId: n.report_id.slice(-8),
    plate: n.plate,
    ...(reason
      ? { reasonText: reason[n.language] }
      : n.event === 'rejected'
        ? { reasonText: n.reason_code ?? '' }
        : {}),
    ...(n.review_note ? { note: n.review_note } : {}),
    ...(n.case_number ? { caseNumber: n.case_number } : {}),
    ...(n.event === 'rewarded' && n.reward_sum !== null
      ? { amountSum: n.reward_sum }
      : n.fine_amount_sum !== null
        ? { amountSum: n.fine_amount_sum }
        : {}),
  };
}
