import { requireRole } from '../../auth/guard.js';
import { type App, errorResponses } from '../../platform/http/types.js';
import type { EmailOutbox } from './outbox.js';
import { EmailOutboxQuery, EmailOutboxView } from './outbox.schema.js';

export interface EmailOutboxRoutesOptions {
  outbox: Pick<EmailOutbox, 'outbox'>;
  /**
   * Production with the simulator opted into (JARIMA_ALLOW_SIMULATORS): what it "sent" is real citizens' data, so
   * only an admin reads it. In development the route is open, as a developer needs it.
   */
  adminOnly: boolean;
}

/** SIMULATOR ONLY: what the e-mail outbox "sent" (no SMTP server configured). */
export async function emailOutboxRoutes(app: App, opts: EmailOutboxRoutesOptions): Promise<void> {
  app.get(
    '/v1/dev/email-outbox',
    {
      ...(opts.adminOnly ? { preHandler: requireRole('admin') } : {}),
      schema: {
        tags: ['dev'],
        ...(opts.adminOnly ? { security: [{ bearer: [] }] } : {}),
        summary: 'SIMULATOR ONLY: e-mails the local outbox "sent", newest first',
        querystring: EmailOutboxQuery,
        response: { 200: EmailOutboxView, ...(opts.adminOnly ? errorResponses(401, 403) : {}) },
      },
    },
    async (request): Promise<EmailOutboxView> => ({
      simulator: true,
      messages: opts.outbox.outbox(request.query.to),
    }),
  );
}
