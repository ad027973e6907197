import type { App } from '../../platform/http/types.js';
import type { EmailOutbox } from './outbox.js';
import { EmailOutboxQuery, EmailOutboxView } from './outbox.schema.js';

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
