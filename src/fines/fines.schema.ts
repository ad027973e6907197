import { Type as T } from '@sinclair/typebox';
import {
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from '../integrations/gov-registry/webhook-signature.js';

/** Optional to the schema: a missing signature is refused by the signature check, with its own reason. */
export const WebhookHeaders = T.Object({
  [WEBHOOK_TIMESTAMP_HEADER]: T.Optional(T.String()),
  [WEBHOOK_SIGNATURE_HEADER]: T.Optional(T.String()),
});

export const WebhookResponse = T.Object({
  eventId: T.String({ format: 'uuid' }),
  outcome: T.Union([T.Literal('applied'), T.Literal('duplicate'), T.Literal('recorded')]),
});
