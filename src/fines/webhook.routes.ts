import type { FastifyRequest } from 'fastify';
import { RegistryEventSchema } from '../integrations/gov-registry/port.js';
import {
  verifyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from '../integrations/gov-registry/webhook-signature.js';
import type { Config } from '../platform/config/config.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { keepRawJsonBody } from '../platform/http/raw-body.js';
import { type App, errorResponses } from '../platform/http/types.js';
import type { ReferenceData } from '../reference/reference.js';
import type { RewardPolicy } from '../rewards/ledger.js';
import { WebhookHeaders, WebhookResponse } from './fines.schema.js';
import { applyRegistryEvent } from './registry-events.js';

export interface WebhookRoutesOptions {
  db: Pool;
  reference: ReferenceData;
  /** Secrets the registry signs with (more than one while a secret is rotated). */
  webhookSecrets: string[];
  config: RewardPolicy & Pick<Config, 'GOV_WEBHOOK_TOLERANCE_SECONDS'>;
}

/**
 * The registry's callbacks: HMAC-SHA256 over `timestamp.body` with a shared secret, refused outside the replay
 * window; idempotent by event id. A plugin of its own, so its JSON parser — which keeps the raw body the signature
 * covers (re-serialising parsed JSON would not give back the same bytes) — serves this route only.
 */
export async function webhookRoutes(app: App, opts: WebhookRoutesOptions): Promise<void> {
  const { db, reference, webhookSecrets, config } = opts;
  keepRawJsonBody(app);
  app.post(
    '/v1/integrations/gov/events',
    {
      // The signature is checked before the body is even validated: an unsigned caller learns nothing.
      preValidation: async (request) => {
        const verdict = verifyWebhook({
          secret: webhookSecrets,
          timestampHeader: header(request, WEBHOOK_TIMESTAMP_HEADER),
          signatureHeader: header(request, WEBHOOK_SIGNATURE_HEADER),
          rawBody: request.rawBody ?? '',
          nowSeconds: Math.floor(Date.now() / 1000),
          toleranceSeconds: config.GOV_WEBHOOK_TOLERANCE_SECONDS,
        });
        if (!verdict.ok)
          throw new AppError('WEBHOOK_SIGNATURE_INVALID', { details: { reason: verdict.reason } });
      },
      schema: {
        tags: ['integrations'],
        summary: 'Fines registry callbacks (fine issued, fine paid), HMAC-signed; idempotent by event id',
        headers: WebhookHeaders,
        body: RegistryEventSchema,
        response: { 200: WebhookResponse, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request) => {
      const outcome = await applyRegistryEvent(db, { reference, config }, request.body);
      return { eventId: request.body.id, outcome };
    },
  );
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
