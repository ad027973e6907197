import { normalisePhone } from '../../auth/phone.js';
import type { App } from '../../platform/http/types.js';
import { SmsOutboxQuery, SmsOutboxView } from './outbox.schema.js';
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
