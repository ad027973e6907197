import { requireRole } from '../../auth/guard.js';
import { normalisePhone } from '../../auth/phone.js';
import { type App, errorResponses } from '../../platform/http/types.js';
import { SmsOutboxQuery, SmsOutboxView } from './outbox.schema.js';
import type { SmsSimulator } from './simulator.js';

export interface OutboxRoutesOptions {
  simulator: Pick<SmsSimulator, 'outbox'>;
  /**
   * Production with the simulator opted into (JARIMA_ALLOW_SIMULATORS): what it "sent" is real citizens' data, so
   * only an admin reads it. In development the route is open, as a developer needs it.
   */
  adminOnly: boolean;
}

/** Only registered while the SMS simulator is the gateway: lets a developer read the codes it "sent". */
export async function outboxRoutes(app: App, opts: OutboxRoutesOptions): Promise<void> {
  app.get(
    '/v1/dev/outbox',
    {
      ...(opts.adminOnly ? { preHandler: requireRole('admin') } : {}),
      schema: {
        tags: ['dev'],
        ...(opts.adminOnly ? { security: [{ bearer: [] }] } : {}),
        summary: 'SIMULATOR ONLY: messages the local SMS simulator "sent", newest first',
        querystring: SmsOutboxQuery,
        response: { 200: SmsOutboxView, ...(opts.adminOnly ? errorResponses(401, 403) : {}) },
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
