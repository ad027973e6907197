import { type Static, Type as T } from '@sinclair/typebox';

/**
 * The SMS gateway's HTTP API, `POST /v1/messages` with `Authorization: Bearer <key>` and an optional
 * `Idempotency-Key`: the simulator validates requests with these schemas and the adapter checks answers with them,
 * so the two cannot drift apart.
 */

/** E.164: a plus, then 7 to 15 digits, the first not zero. */
export const E164_PATTERN = '^\\+[1-9][0-9]{6,14}$';

/** Ten concatenated segments; more is surely a bug on our side, not a message. */
export const MAX_TEXT_CHARS = 1600;

export const SendMessageRequestSchema = T.Object({
  to: T.String(),
  text: T.String({ minLength: 1, maxLength: MAX_TEXT_CHARS }),
});
export type SendMessageRequest = Static<typeof SendMessageRequestSchema>;

export const SendMessageResponseSchema = T.Object({ messageId: T.String({ minLength: 1 }) });

export const GatewayErrorBodySchema = T.Object({ code: T.String(), message: T.String() });
export type GatewayErrorBody = Static<typeof GatewayErrorBodySchema>;
