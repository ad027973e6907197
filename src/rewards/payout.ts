import { randomUUID } from 'node:crypto';

/**
 * The outbound payout port: money to the citizen's account. Only the local simulator exists so far (no payment
 * provider is reachable from here); a real adapter must honour the idempotency key the same way.
 */
export interface PayoutGateway {
  readonly name: string;
  pay(p: { idempotencyKey: string; citizenId: string; amountSum: number }): Promise<{ reference: string }>;
}

export interface SimulatedPayout {
  reference: string;
  idempotencyKey: string;
  citizenId: string;
  amountSum: number;
  at: string;
}

/** Pays by remembering: the same idempotency key always returns the first payment's reference, paying nothing new. */
export class PayoutSimulator implements PayoutGateway {
  readonly name = 'payout-simulator';
  private readonly byKey = new Map<string, SimulatedPayout>();

  async pay(p: {
    idempotencyKey: string;
    citizenId: string;
    amountSum: number;
  }): Promise<{ reference: string }> {
    const known = this.byKey.get(p.idempotencyKey);
    if (known) return { reference: known.reference };
    const payout = { ...p, reference: `PAY-${randomUUID()}`, at: new Date().toISOString() };
    this.byKey.set(p.idempotencyKey, payout);
    return { reference: payout.reference };
  }

  payouts(): SimulatedPayout[] {
    return [...this.byKey.values()];
  }
}
