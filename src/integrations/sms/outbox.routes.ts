import { Type as T } from '@sinclair/typebox';
import { normalisePhone } from '../../auth/phone.js';
import type { App } from '../../platform/http/types.js';
import type { EmailOutbox } from '../email/outbox.js';
import type { SmsSimulator } from './simulator.js';

/** Only registered while the SMS simulator is the gateway: lets a developer read the codes it "sent". */
export function outboxRoutes(app: App, simulator: SmsSimulator): void {
  app.get(
    '/v1/dev/outbox',
    {
      schema: {
        tags: ['dev'],
        summary: 'SIMULATOR ONLY: messages the local SMS simulator "sent", newest first',
        querystring: T.Object({ to: T.Optional(T.String({ maxLength: 24 })) }),
        response: {
          200: T.Object({
            simulator: T.Literal(true),
            messages: T.Array(
              T.Object({ messageId: T.String(), to: T.String(), text: T.String(), sentAt: T.String() }),
            ),
          }),
        },
      },
    },
    async (request) => ({
      simulator: true as const,
      messages: simulator.outbox(
        request.query.to === undefined ? undefined : normalisePhone(request.query.to),
      ),
    }),
  );
}

/** SIMULATOR ONLY: what the e-mail outbox "sent" (no SMTP server configured). */
export function emailOutboxRoutes(app: App, outbox: EmailOutbox): void {
  app.get(
    '/v1/dev/email-outbox',
    {
      schema: {
        tags: ['dev'],
        summary: 'SIMULATOR ONLY: e-mails the local outbox "sent", newest first',
        querystring: T.Object({ to: T.Optional(T.String({ maxLength: 254 })) }),
        response: {
          200: T.Object({
            simulator: T.Literal(true),
            messages: T.Array(T.Object({ to: T.String(), subject: T.String(), text: T.String() })),
          }),
        },
      },
    },
    async (request) => ({ simulator: true as const, messages: outbox.outbox(request.query.to) }),
  );
}
