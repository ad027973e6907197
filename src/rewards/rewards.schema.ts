import { type Static, Type as T } from '@sinclair/typebox';

const Instant = T.String({ format: 'date-time' });

export const RewardItem = T.Object({
  reportId: T.String({ format: 'uuid' }),
  amountSum: T.Integer(),
  accruedAt: Instant,
  paidOutAt: T.Union([Instant, T.Null()]),
  reference: T.Union([T.String(), T.Null()]),
});

export const Rewards = T.Object({
  totalSum: T.Integer({ description: 'Every reward accrued, in sum' }),
  paidOutSum: T.Integer(),
  pendingSum: T.Integer({ description: 'Accrued, not yet paid out' }),
  items: T.Array(RewardItem),
});
export type Rewards = Static<typeof Rewards>;

export const PayoutsCsvQuery = T.Object(
  { from: T.Optional(Instant), to: T.Optional(Instant) },
  { additionalProperties: false },
);

/** Optional to the schema: a missing signature is refused by the signature check, with its own reason. */
export const PayoutWebhookHeaders = T.Object({
  'webhook-id': T.Optional(T.String()),
  'webhook-timestamp': T.Optional(T.String()),
  'webhook-signature': T.Optional(T.String()),
});

export const PayoutWebhookResponse = T.Object({
  eventId: T.String(),
  outcome: T.Union([T.Literal('applied'), T.Literal('duplicate')]),
});
export type PayoutWebhookResponse = Static<typeof PayoutWebhookResponse>;
