import { normalisePhone } from '../../auth/phone.js';
import type { App } from '../../platform/http/types.js';
import type { EmailOutbox } from '../email/outbox.js';
import { EmailOutboxQuery, EmailOutboxView, SmsOutboxQuery, SmsOutboxView } from './outbox.schema.js';
import type { SmsSimulator } from './simulator.js';

export interface OutboxRoutesOptions {
  simulator: Pick<SmsSimulator, 'outbox'>;
}

/** Only registered while the SMS simulator is the gateway: lets a developer read the codes it "sent". */
export async function outboxRoutes(app: App, opts: OutboxRoutesOptions): Promise<void> {
  app.get(
    '/v1/dev/outbox',
    {
      schema: {
        tags: ['dev'],
        summary: 'SIMULATOR ONLY: messages the local SMS simulator "sent", newest first',
        querystring: SmsOutboxQuery,
        response: { 200: SmsOutboxView },
      },
    },
    async (request): Promise<SmsOutboxView> => ({
      simulator: true,
      messages: opts.simulator.outbox(
        request.query.to === undefined ? undefined : normalisePhone(request.query.to),
      ),
    }),
  );
}

export interface EmailOutboxRoutesOptions {
  outbox: Pick<EmailOutbox, 'outbox'>;
}

/** SIMULATOR ONLY: what the e-mail outbox "sent" (no SMTP server configured). */
export async function emailOutboxRoutes(app: App, opts: EmailOutboxRoutesOptions): Promise<void> {
  app.get(
    '/v1/dev/email-outbox',
    {
      schema: {
        tags: ['dev'],
        summary: 'SIMULATOR ONLY: e-mails the local outbox "sent", newest first',
        querystring: EmailOutboxQuery,
        response: { 200: EmailOutboxView },
      },
    },
    async (request): Promise<EmailOutboxView> => ({
      simulator: true,
      messages: opts.outbox.outbox(request.query.to),
    }),
  );
}
