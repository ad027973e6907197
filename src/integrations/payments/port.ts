import { type Static, Type as T } from '@sinclair/typebox';

/**
 * The outbound payout port: a reward to the citizen's account. Adapters: `HttpPayoutGateway` (a payment provider's
 * JSON API, README.md) and `PayoutSimulator` (local, its state in the database). The schemas are the wire format
 * too: the HTTP simulator validates requests with them and the adapter checks the provider's answers.
 */
export interface PayoutGateway {
  readonly name: string;
  /**
   * Pays once per `idempotencyKey`: the same key again returns the first payment's reference and pays nothing new.
   * Throws `PayoutRetryableError` (try again later with the same key) or `PayoutRejectedError` (stop).
   */
  pay(p: PayoutRequest, signal?: AbortSignal): Promise<PayoutReceipt>;
}

export const PayoutRequestSchema = T.Object(
  {
    /** Whom to pay, as the provider knows them (our citizen id; the provider holds the account details). */
    recipient: T.String({ minLength: 1, maxLength: 128 }),
    amountSum: T.Integer({ minimum: 1, description: 'In sum (UZS), no fractions' }),
    currency: T.Literal('UZS'),
  },
  { additionalProperties: false },
);

export interface PayoutRequest {
  idempotencyKey: string;
  citizenId: string;
  amountSum: number;
}

export const PayoutReceiptSchema = T.Object({
  reference: T.String({ minLength: 1, maxLength: 128 }),
  /** The provider already knew this key and returned the payment it made then. */
  duplicate: T.Boolean(),
});
export type PayoutReceipt = Static<typeof PayoutReceiptSchema>;

export const PayoutErrorBodySchema = T.Object({
  code: T.String(),
  message: T.String(),
  field: T.Optional(T.String()),
});
export type PayoutErrorBody = Static<typeof PayoutErrorBodySchema>;

/** What the provider POSTs back once a payment settled or failed; delivered at least once. */
export const PayoutEventSchema = T.Object({
  id: T.String({ minLength: 1, maxLength: 128 }),
  type: T.Union([T.Literal('payout.settled'), T.Literal('payout.failed')]),
  reference: T.String({ minLength: 1, maxLength: 128 }),
  idempotencyKey: T.String({ minLength: 1, maxLength: 255 }),
  amountSum: T.Integer({ minimum: 1 }),
  reason: T.Optional(T.String({ maxLength: 500 })),
  occurredAt: T.String({ format: 'date-time' }),
});
export type PayoutEvent = Static<typeof PayoutEventSchema>;

export type PayoutUnavailableReason =
  | 'breaker_open'
  | 'timeout'
  | 'network'
  | 'server_error'
  | 'rate_limited'
  | 'conflict'
  | 'bad_response';

/**
 * The provider could not take the payment now. Whether or not it was made, asking again with the same key is safe;
 * the sweep retries no sooner than `retryAfterMs`.
 */
export class PayoutRetryableError extends Error {
  readonly retryable = true;
  readonly reason: PayoutUnavailableReason;
  readonly retryAfterMs: number;
  readonly status: number | undefined;
  constructor(
    reason: PayoutUnavailableReason,
    message: string,
    opts: { retryAfterMs?: number; status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'PayoutRetryableError';
    this.reason = reason;
    this.retryAfterMs = opts.retryAfterMs ?? 0;
    this.status = opts.status;
  }
}

/** The provider refused this payment (a bad request, a key reused for another amount, our credentials): stop. */
export class PayoutRejectedError extends Error {
  readonly retryable = false;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`payment provider refused the payout: ${status} ${code}: ${message}`);
    this.name = 'PayoutRejectedError';
  }
}
