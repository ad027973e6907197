import { PayoutEventSchema } from '../integrations/payments/port.js';
import { verifyPayoutWebhook } from '../integrations/payments/webhook-signature.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { keepRawJsonBody } from '../platform/http/raw-body.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { applyPayoutOutcome } from './payouts.repository.js';
import { PayoutWebhookHeaders, PayoutWebhookResponse } from './rewards.schema.js';

export interface PayoutWebhookRoutesOptions {
  db: Queryable;
  /** PAYOUT_WEBHOOK_SECRET's secrets (more than one while a secret is rotated). */
  secrets: string[];
  toleranceSeconds?: number;
}

/**
 * The payment provider's callbacks (settled, failed), Standard Webhooks-signed over the raw body; idempotent (a
 * repeated callback changes nothing). A plugin of its own so its raw-body JSON parser serves this route only.
 */
export async function payoutWebhookRoutes(app: App, opts: PayoutWebhookRoutesOptions): Promise<void> {
  keepRawJsonBody(app);
  app.post(
    '/v1/integrations/payments/events',
    {
      // Checked before the body is validated: an unsigned caller learns nothing.
      preValidation: async (request) => {
        const verdict = verifyPayoutWebhook({
          secrets: opts.secrets,
          headers: request.headers,
          rawBody: request.rawBody ?? '',
          nowSeconds: Math.floor(Date.now() / 1000),
          toleranceSeconds: opts.toleranceSeconds ?? 300,
        });
        if (!verdict.ok)
          throw new AppError('WEBHOOK_SIGNATURE_INVALID', { details: { reason: verdict.reason } });
      },
      schema: {
        tags: ['integrations'],
        summary: 'Payment provider callbacks (payout settled, payout failed), Standard Webhooks-signed',
        headers: PayoutWebhookHeaders,
        body: PayoutEventSchema,
        response: { 200: PayoutWebhookResponse, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request): Promise<PayoutWebhookResponse> => {
      const e = request.body;
      const outcome = await applyPayoutOutcome(opts.db, {
        idempotencyKey: e.idempotencyKey,
        reference: e.reference,
        outcome: e.type === 'payout.settled' ? 'settled' : 'failed',
        reason: e.reason ?? null,
      });
      if (outcome === 'not_found') throw new AppError('PAYOUT_NOT_FOUND');
      if (outcome === 'not_accepted_yet') throw new AppError('PAYOUT_NOT_RECORDED_YET');
      if (outcome === 'applied' && e.type === 'payout.failed')
        request.log.error(
          { reference: e.reference, reason: e.reason },
          'the provider reports a payout failed',
        );
      return { eventId: e.id, outcome };
    },
  );
}
