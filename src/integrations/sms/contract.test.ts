import { afterEach, describe, expect, it } from 'vitest';
import { HttpSmsGateway } from './http-adapter.js';
import { type SmsGatewaySimulator, startSmsGatewaySimulator } from './http-simulator.js';
import { type SmsGateway, SmsRejectedError, SmsRetryableError } from './port.js';
import { SmsSimulator } from './simulator.js';

interface Harness {
  gateway: SmsGateway;
  /** What reached the other side, oldest first. */
  sent(): { to: string; text: string }[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

const PHONE = '+998901234567';

/** What every SmsGateway must do, whatever is behind it. */
function smsGatewayContract(name: string, factory: () => Promise<Harness>): void {
  describe(`SmsGateway contract: ${name}`, () => {
    it('delivers the text to the number and returns a message id', async () => {
      const h = await factory();
      const { messageId } = await h.gateway.send(PHONE, 'Jarima: 7F3K2Q9A qabul qilindi. Сообщение принято.');
      expect(messageId).toEqual(expect.any(String));
      expect(h.sent()).toEqual([{ to: PHONE, text: 'Jarima: 7F3K2Q9A qabul qilindi. Сообщение принято.' }]);
    });

    it('sends once per idempotency key and answers a retry with the first message id', async () => {
      const h = await factory();
      const first = await h.gateway.send(PHONE, 'once', { idempotencyKey: 'report-1:accepted:sms' });
      const retry = await h.gateway.send(PHONE, 'once', { idempotencyKey: 'report-1:accepted:sms' });
      const other = await h.gateway.send(PHONE, 'twice', { idempotencyKey: 'report-1:approved:sms' });
      expect(retry.messageId).toBe(first.messageId);
      expect(other.messageId).not.toBe(first.messageId);
      expect(h.sent().map((m) => m.text)).toEqual(['once', 'twice']);
    });

    it('sends every call without a key', async () => {
      const h = await factory();
      const a = await h.gateway.send(PHONE, 'same');
      const b = await h.gateway.send(PHONE, 'same');
      expect(a.messageId).not.toBe(b.messageId);
      expect(h.sent()).toHaveLength(2);
    });
  });
}

smsGatewayContract('SmsSimulator (in-process)', async () => {
  const sim = new SmsSimulator();
  return {
    gateway: sim,
    sent: () =>
      sim
        .outbox()
        .reverse()
        .map(({ to, text }) => ({ to, text })),
  };
});

const API_KEY = 'test-key-1';

async function startHttp(opts: { apiKey?: string; timeoutMs?: number } = {}) {
  const server = await startSmsGatewaySimulator({ port: 0, apiKey: API_KEY });
  const gateway = new HttpSmsGateway({
    url: server.url,
    apiKey: opts.apiKey ?? API_KEY,
    timeoutMs: opts.timeoutMs,
  });
  cleanups.push(async () => {
    await gateway.close();
    await server.stop();
  });
  return { server, gateway };
}

smsGatewayContract('HttpSmsGateway → HTTP gateway simulator', async () => {
  const { server, gateway } = await startHttp();
  return { gateway, sent: () => server.messages().map(({ to, text }) => ({ to, text })) };
});

describe('HttpSmsGateway failures', () => {
  let server: SmsGatewaySimulator;
  let gateway: HttpSmsGateway;
  const start = async (opts?: { apiKey?: string; timeoutMs?: number }) => {
    ({ server, gateway } = await startHttp(opts));
  };

  it('a number the gateway refuses is rejected, not retried', async () => {
    await start();
    const err = await gateway.send('+99890', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmsRejectedError);
    expect(err).toMatchObject({ status: 400, code: 'INVALID_NUMBER', retryable: false });
    expect((err as Error).message).not.toContain('+99890');
    expect(server.messages()).toHaveLength(0);
  });

  it('a wrong API key is rejected', async () => {
    await start({ apiKey: 'wrong' });
    await expect(gateway.send(PHONE, 'x')).rejects.toMatchObject({
      name: 'SmsRejectedError',
      status: 401,
      code: 'UNAUTHORIZED',
    });
  });

  it('an injected 503 is retryable with the Retry-After hint, and the retry goes through once', async () => {
    await start();
    server.control.errorRate = 1;
    const err = await gateway.send(PHONE, 'x', { idempotencyKey: 'k1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmsRetryableError);
    expect(err).toMatchObject({ status: 503, retryAfterMs: 1000, retryable: true });
    server.control.errorRate = 0;
    await gateway.send(PHONE, 'x', { idempotencyKey: 'k1' });
    await gateway.send(PHONE, 'x', { idempotencyKey: 'k1' });
    expect(server.messages()).toHaveLength(1);
  });

  it.each([
    [429, SmsRetryableError],
    [500, SmsRetryableError],
    [502, SmsRetryableError],
    [403, SmsRejectedError],
    [422, SmsRejectedError],
  ])('HTTP %i is classified as %o', async (status, expected) => {
    await start();
    server.control.errorRate = 1;
    server.control.errorStatus = status;
    await expect(gateway.send(PHONE, 'x')).rejects.toBeInstanceOf(expected);
  });

  it('a gateway slower than timeoutMs is retryable', async () => {
    await start({ timeoutMs: 100 });
    server.control.latencyMs = 1000;
    await expect(gateway.send(PHONE, 'x')).rejects.toThrow(/timed out after 100 ms/);
  });

  it('a gateway that is down is retryable', async () => {
    await start();
    await server.stop();
    await expect(gateway.send(PHONE, 'x')).rejects.toThrow(SmsRetryableError);
  });
});
