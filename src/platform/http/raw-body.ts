import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/catalog.js';
import type { App } from './types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body as it arrived, where `keepRawJsonBody` is installed (signed webhooks). */
    rawBody?: string;
  }
}

/**
 * Parses JSON bodies in this plugin's scope and keeps the text they arrived as, which a webhook signature covers:
 * re-serialising parsed JSON would not give back the same bytes. Install it inside the webhook's own plugin so other
 * routes keep Fastify's parser.
 */
export function keepRawJsonBody(app: App): void {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    (request as FastifyRequest).rawBody = body as string;
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new AppError('MALFORMED_BODY', { cause: err }), undefined);
    }
  });
}
