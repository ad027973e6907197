import { Type as T } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../app/deps.js';
import { RegistryEventSchema } from '../integrations/gov-registry/port.js';
import {
  verifyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from '../integrations/gov-registry/webhook-signature.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { applyRegistryEvent } from './registry-events.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

/**
 * The registry's callbacks: HMAC-SHA256 over `timestamp.body` with a shared secret, refused outside the replay
 * window; idempotent by event id. Registered in its own scope, whose JSON parser keeps the raw body the signature
 * covers (re-serialising parsed JSON would not give back the same bytes).
 */
export async function webhookRoutes(app: App, deps: Deps): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      (request as FastifyRequest).rawBody = body as string;
      try {
        done(null, JSON.parse(body as string));
      } catch (err) {
        done(new AppError('MALFORMED_BODY', { cause: err }), undefined);
      }
    });
    (scope as App).post(
      '/v1/integrations/gov/events',
      {
        // The signature is checked before the body is even validated: an unsigned caller learns nothing.
        preValidation: async (request) => {
          const verdict = verifyWebhook({
            secret: deps.govWebhookSecrets,
            timestampHeader: header(request, WEBHOOK_TIMESTAMP_HEADER),
            signatureHeader: header(request, WEBHOOK_SIGNATURE_HEADER),
            rawBody: request.rawBody ?? '',
            nowSeconds: Math.floor(Date.now() / 1000),
            toleranceSeconds: deps.config.GOV_WEBHOOK_TOLERANCE_SECONDS,
          });
          if (!verdict.ok)
            throw new AppError('WEBHOOK_SIGNATURE_INVALID', { details: { reason: verdict.reason } });
        },
        schema: {
          tags: ['integrations'],
          summary: 'Fines registry callbacks (fine issued, fine paid), HMAC-signed; idempotent by event id',
          headers: T.Object({
            [WEBHOOK_TIMESTAMP_HEADER]: T.Optional(T.String()),
            [WEBHOOK_SIGNATURE_HEADER]: T.Optional(T.String()),
          }),
          body: RegistryEventSchema,
          response: {
            200: T.Object({
              eventId: T.String({ format: 'uuid' }),
              outcome: T.Union([T.Literal('applied'), T.Literal('duplicate'), T.Literal('recorded')]),
            }),
            ...errorResponses(400, 401, 404),
          },
        },
      },
      async (request) => {
        const outcome = await applyRegistryEvent(deps.pool, deps, request.body);
        return { eventId: request.body.id, outcome };
      },
    );
  });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
