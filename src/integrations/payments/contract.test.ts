import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { HttpPayoutGateway } from './http-adapter.js';
import { type PayoutProviderSimulator, startPayoutProviderSimulator } from './http-simulator.js';
import { type PayoutGateway, PayoutRejectedError, PayoutRetryableError } from './port.js';
import { PayoutSimulator, type SimulatedPayout } from './simulator.js';

interface Harness {
  gateway: PayoutGateway;
  /** What the provider's side paid, oldest first. */
  paid(): Promise<SimulatedPayout[]>;
  /** The provider side restarted on the same state; the gateway to it. */
  restart(): Promise<PayoutGateway>;
  teardown(): Promise<void>;
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

const request = (amountSum = 37_500) => ({
  idempotencyKey: `reward:${randomUUID()}`,
  citizenId: randomUUID(),
  amountSum,
});

/** What every PayoutGateway must do, whatever carries the calls. */
function payoutGatewayContract(name: string, factory: () => Promise<Harness>): void {
  describe(`PayoutGateway contract: ${name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await factory();
    });
    afterAll(() => h?.teardown());
    const paidFor = async (key: string) => (await h.paid()).filter((p) => p.idempotencyKey === key);

    it('pays and answers with a reference', async () => {
      const r = request();
      const receipt = await h.gateway.pay(r);
      expect(receipt).toEqual({ reference: expect.stringMatching(/\S/), duplicate: false });
      expect(await paidFor(r.idempotencyKey)).toMatchObject([
        { reference: receipt.reference, citizenId: r.citizenId, amountSum: r.amountSum },
      ]);
    });

    it('pays a key once: a repeat answers the first reference, marked duplicate', async () => {
      const r = request();
      const [a, b] = await Promise.all([h.gateway.pay(r), h.gateway.pay(r)]);
      const c = await h.gateway.pay(r);
      expect(new Set([a.reference, b.reference, c.reference]).size).toBe(1);
      expect(c.duplicate).toBe(true);
      expect(await paidFor(r.idempotencyKey)).toHaveLength(1);
      const other = await h.gateway.pay(request());
      expect(other.reference).not.toBe(a.reference);
    });

    it('keeps its payments across a restart', async () => {
      const r = request();
      const first = await h.gateway.pay(r);
      h.gateway = await h.restart();
      const after = await h.gateway.pay(r);
      expect(after).toEqual({ reference: first.reference, duplicate: true });
      expect(await paidFor(r.idempotencyKey)).toHaveLength(1);
    });

    it('refuses a non-positive amount as permanent', async () => {
      const r = request(0);
      const err = await h.gateway.pay(r).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PayoutRejectedError);
      expect(err).toMatchObject({ retryable: false, status: 400, code: 'VALIDATION_FAILED' });
      expect(await paidFor(r.idempotencyKey)).toHaveLength(0);
    });

    it('refuses a key reused for another payout as permanent', async () => {
      const r = request();
      await h.gateway.pay(r);
      const err = await h.gateway.pay({ ...r, amountSum: r.amountSum + 1 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ retryable: false, status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
      expect(await paidFor(r.idempotencyKey)).toHaveLength(1);
    });
  });
}

payoutGatewayContract('PayoutSimulator (in-process, in the database)', async () => {
  const sim = new PayoutSimulator(db.pool);
  return {
    gateway: sim,
    paid: () => sim.payouts(),
    restart: async () => new PayoutSimulator(db.pool),
    teardown: async () => {},
  };
});

const API_KEY = 'payments-contract-key';

payoutGatewayContract('HttpPayoutGateway → HTTP provider simulator', async () => {
  const store = new PayoutSimulator(db.pool);
  const parts: { server: PayoutProviderSimulator; gateway: HttpPayoutGateway }[] = [];
  const start = async () => {
    const server = await startPayoutProviderSimulator({ apiKey: API_KEY, store });
    const gateway = new HttpPayoutGateway({ url: server.url, apiKey: API_KEY });
    parts.push({ server, gateway });
    return gateway;
  };
  const gateway = await start();
  return {
    gateway,
    paid: () => store.payouts(),
    restart: async () => {
      await parts[0]!.server.stop();
      return start();
    },
    teardown: async () => {
      for (const p of parts) {
        await p.gateway.close();
        await p.server.stop();
      }
    },
  };
});

describe('HttpPayoutGateway failures', () => {
  const started: { server: PayoutProviderSimulator; gateway: HttpPayoutGateway }[] = [];
  afterAll(async () => {
    for (const s of started) {
      await s.gateway.close();
      await s.server.stop();
    }
  });
  const start = async (opts: Partial<ConstructorParameters<typeof HttpPayoutGateway>[0]> = {}) => {
    const server = await startPayoutProviderSimulator({
      apiKey: API_KEY,
      store: new PayoutSimulator(db.pool),
    });
    const gateway = new HttpPayoutGateway({
      url: server.url,
      apiKey: API_KEY,
      backoff: { initialDelayMs: 10, maxDelayMs: 50 },
      ...opts,
    });
    started.push({ server, gateway });
    return { server, gateway };
  };

  it('retries a 503 in place with the same key, and pays once', async () => {
    const { server, gateway } = await start({ retries: 3 });
    server.control.failNext = 2;
    server.control.retryAfterSeconds = 0;
    await expect(gateway.pay(request())).resolves.toMatchObject({ duplicate: false });
    expect(server.stats()).toMatchObject({ paid: 1, requests: 3, refused: 2 });
  });

  it.each([
    [429, PayoutRetryableError],
    [500, PayoutRetryableError],
    [503, PayoutRetryableError],
    [400, PayoutRejectedError],
    [403, PayoutRejectedError],
  ])('HTTP %i is classified as %o', async (status, expected) => {
    const { server, gateway } = await start({ retries: 0 });
    server.control.errorRate = 1;
    server.control.errorStatus = status;
    await expect(gateway.pay(request())).rejects.toBeInstanceOf(expected);
  });

  it('a wrong API key is permanent', async () => {
    const { gateway } = await start({ apiKey: 'wrong' });
    await expect(gateway.pay(request())).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('a provider slower than the timeout is retryable', async () => {
    const { server, gateway } = await start({ timeoutMs: 100, retries: 0 });
    server.control.latencyMs = 1000;
    await expect(gateway.pay(request())).rejects.toMatchObject({ reason: 'timeout', retryable: true });
  });

  it('opens the breaker after consecutive failures and fails fast until the probe', async () => {
    const { server, gateway } = await start({
      retries: 0,
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 200 },
    });
    server.control.down = true;
    for (let i = 0; i < 3; i++) await expect(gateway.pay(request())).rejects.toThrow(PayoutRetryableError);
    expect(gateway.breakerState()).toBe('open');
    const seen = server.stats().requests;
    const err = await gateway.pay(request()).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'breaker_open', retryable: true });
    expect((err as PayoutRetryableError).retryAfterMs).toBeGreaterThan(0);
    expect(server.stats().requests).toBe(seen);
    server.control.down = false;
    await new Promise((r) => setTimeout(r, 250));
    await expect(gateway.pay(request())).resolves.toMatchObject({ duplicate: false });
    expect(gateway.breakerState()).toBe('closed');
  });

  it('a provider that is down is retryable', async () => {
    const { server, gateway } = await start({ retries: 0 });
    await server.stop();
    await expect(gateway.pay(request())).rejects.toMatchObject({ reason: 'network', retryable: true });
  });
});
