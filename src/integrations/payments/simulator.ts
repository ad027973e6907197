import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../platform/db/pool.js';
import { type PayoutGateway, type PayoutReceipt, PayoutRejectedError, type PayoutRequest } from './port.js';

export interface SimulatedPayout {
  reference: string;
  idempotencyKey: string;
  citizenId: string;
  amountSum: number;
  at: string;
}

/**
 * Pays by remembering, in the database (payout_simulator_payments): the same idempotency key always returns the
 * first payment's reference, across restarts and processes, paying nothing new. Nobody receives money. Also the
 * state behind the HTTP provider simulator (http-simulator.ts), so both adapters are tested against one ledger.
 */
export class PayoutSimulator implements PayoutGateway {
  readonly name = 'payout-simulator';

  constructor(private readonly db: Queryable) {}

  async pay(p: PayoutRequest): Promise<PayoutReceipt> {
    if (!Number.isSafeInteger(p.amountSum) || p.amountSum <= 0)
      throw new PayoutRejectedError(400, 'VALIDATION_FAILED', 'amountSum must be a positive integer');
    const { rows: made } = await this.db.query<{ reference: string }>(
      `insert into payout_simulator_payments (idempotency_key, reference, recipient, amount_sum)
       values ($1, $2, $3, $4) on conflict (idempotency_key) do nothing returning reference`,
      [p.idempotencyKey, `PAY-${randomUUID()}`, p.citizenId, p.amountSum],
    );
    if (made[0]) return { reference: made[0].reference, duplicate: false };
    const { rows } = await this.db.query<{ reference: string; recipient: string; amount_sum: number }>(
      'select reference, recipient, amount_sum from payout_simulator_payments where idempotency_key = $1',
      [p.idempotencyKey],
    );
    const known = rows[0]!;
    // A provider that paid a different amount under the same key must not pretend this one was paid.
    if (known.recipient !== p.citizenId || Number(known.amount_sum) !== p.amountSum)
      throw new PayoutRejectedError(422, 'IDEMPOTENCY_KEY_REUSED', 'the key was used for another payout');
    return { reference: known.reference, duplicate: true };
  }

  /** Every payment made, oldest first. */
  async payouts(): Promise<SimulatedPayout[]> {
    const { rows } = await this.db.query<{
      reference: string;
      idempotency_key: string;
      recipient: string;
      amount_sum: number;
      created_at: Date;
    }>('select * from payout_simulator_payments order by created_at, reference');
    return rows.map((r) => ({
      reference: r.reference,
      idempotencyKey: r.idempotency_key,
      citizenId: r.recipient,
      amountSum: Number(r.amount_sum),
      at: r.created_at.toISOString(),
    }));
  }
}
