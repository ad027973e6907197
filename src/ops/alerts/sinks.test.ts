import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmailOutbox } from '../../integrations/email/outbox.js';
import { EmailRejectedError, EmailRetryableError } from '../../integrations/email/port.js';
import { AlertManager } from './manager.js';
import { parseAlertRules } from './rules.js';
import { type AlertEvent, EmailSink, LogSink, WebhookSink } from './sinks.js';

const event = (overrides: Partial<AlertEvent> = {}): AlertEvent => ({
  rule: 'ForwardQueueStuck',
  labels: { stage: 'forward' },
  severity: 'critical',
  state: 'firing',
  repeat: false,
  value: 742,
  summary: 'The oldest forward job is 742 s old',
  activeAt: new Date('2025-03-01T10:00:00Z'),
  at: new Date('2025-03-01T10:00:15Z'),
  ...overrides,
});

/** A real HTTP receiver on a free port that answers each request with the next status in `statuses` (then 200). */
async function receiver(statuses: (number | 'hang')[] = []) {
  const received: { headers: IncomingMessage['headers']; body: unknown }[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(data) });
      const status = statuses.shift() ?? 200;
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/alerts`, received };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const fast = { initialDelayMs: 5, maxDelayMs: 20 };

describe('the webhook sink', () => {
  it('POSTs the notice as JSON, with a one-line text for chat webhooks', async () => {
    const r = await receiver();
    await new WebhookSink(r.url, fast).send(event());
    expect(r.received).toHaveLength(1);
    expect(r.received[0]!.headers['content-type']).toBe('application/json');
    expect(r.received[0]!.body).toEqual({
      text: '[FIRING critical] ForwardQueueStuck {stage="forward"}: The oldest forward job is 742 s old',
      status: 'firing',
      repeat: false,
      rule: 'ForwardQueueStuck',
      severity: 'critical',
      labels: { stage: 'forward' },
      value: 742,
      summary: 'The oldest forward job is 742 s old',
      activeAt: '2025-03-01T10:00:00.000Z',
      at: '2025-03-01T10:00:15.000Z',
    });
  });

  it('retries 5xx and 429 with backoff until the receiver takes it', async () => {
    const r = await receiver([503, 500, 429]);
    await new WebhookSink(r.url, { ...fast, attempts: 4 }).send(event());
    expect(r.received).toHaveLength(4);
  });

  it('gives up after its attempts, and never retries a 4xx', async () => {
    const down = await receiver([500, 500, 500, 500]);
    await expect(new WebhookSink(down.url, { ...fast, attempts: 3 }).send(event())).rejects.toThrow(
      'alert webhook answered 500',
    );
    expect(down.received).toHaveLength(3);

    const refuses = await receiver([404]);
    await expect(new WebhookSink(refuses.url, fast).send(event())).rejects.toThrow(
      'alert webhook answered 404; not retried',
    );
    expect(refuses.received).toHaveLength(1);
  });

  it('times out a receiver that does not answer, and tries again', async () => {
    const r = await receiver(['hang', 'hang']);
    await expect(
      new WebhookSink(r.url, { ...fast, attempts: 2, timeoutMs: 150 }).send(event()),
    ).rejects.toThrow('alert webhook: timed out after 150 ms');
    expect(r.received).toHaveLength(2);
    await expect(
      new WebhookSink('http://127.0.0.1:9/', { ...fast, attempts: 1 }).send(event()),
    ).rejects.toThrow('alert webhook: network error');
  });

  it('does not hold up the evaluator: a failing receiver is retried in the background until it answers', async () => {
    const r = await receiver([502, 502]);
    const registry = new Registry();
    new Gauge({
      name: 'jarima_circuit_breaker_open',
      help: 'x',
      labelNames: ['system'],
      registers: [registry],
    }).set({ system: 'sms' }, 1);
    const config = parseAlertRules({
      rules: [
        {
          name: 'CircuitBreakerOpen',
          expr: 'max by (system) (jarima_circuit_breaker_open) > 0',
          severity: 'warning',
          summary: 'breaker to {{system}} open',
          sinks: ['webhook'],
        },
      ],
      sinks: { webhook: { url: r.url } },
    });
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const manager = new AlertManager({
      registry,
      rules: config.rules,
      sinks: [new WebhookSink(r.url, { initialDelayMs: 200, maxDelayMs: 200 })],
      logger: log,
      pool: null,
    });
    await manager.evaluate(Date.now());
    // The tick is over while the notice still waits out its backoffs (~200 ms each).
    expect(r.received.length).toBeLessThan(3);
    await manager.flush();
    expect(r.received.map((x) => (x.body as { text: string }).text)).toEqual([
      '[FIRING warning] CircuitBreakerOpen {system="sms"}: breaker to sms open',
      '[FIRING warning] CircuitBreakerOpen {system="sms"}: breaker to sms open',
      '[FIRING warning] CircuitBreakerOpen {system="sms"}: breaker to sms open',
    ]);
    expect(log.error).not.toHaveBeenCalled();
  });
});

describe('the e-mail sink', () => {
  it('mails each recipient, with the state and rule in the subject', async () => {
    const outbox = new EmailOutbox();
    await new EmailSink(outbox, ['ops@example.org', 'oncall@example.org']).send(
      event({ state: 'resolved', value: 3 }),
    );
    const mails = outbox.outbox().reverse();
    expect(mails.map((m) => [m.to, m.subject])).toEqual([
      ['ops@example.org', '[RESOLVED critical] ForwardQueueStuck {stage="forward"}'],
      ['oncall@example.org', '[RESOLVED critical] ForwardQueueStuck {stage="forward"}'],
    ]);
    expect(mails[0]!.text).toContain('Value:     3');
  });

  it("retries the relay's retryable failures, and reports a refusal after trying everyone", async () => {
    const outbox = new EmailOutbox();
    let calls = 0;
    const flaky = {
      send: async (m: Parameters<EmailOutbox['send']>[0]) => {
        calls++;
        if (calls === 1) throw new EmailRetryableError('greylisted', { responseCode: 451 });
        if (m.to === 'gone@example.org') throw new EmailRejectedError('MAILBOX_UNKNOWN', 'no such mailbox');
        return outbox.send(m);
      },
    };
    await expect(
      new EmailSink(flaky, ['gone@example.org', 'ops@example.org'], fast).send(event()),
    ).rejects.toThrow('alert e-mail failed for 1 of 2 recipients');
    expect(outbox.outbox().map((m) => m.to)).toEqual(['ops@example.org']);
  });
});

describe('the log sink', () => {
  it('logs firing alerts at their severity and resolutions at info', async () => {
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const sink = new LogSink(log);
    await sink.send(event());
    await sink.send(event({ severity: 'warning' }));
    await sink.send(event({ state: 'resolved' }));
    expect(log.error).toHaveBeenCalledWith(
      { alert: expect.objectContaining({ rule: 'ForwardQueueStuck', state: 'firing', value: 742 }) },
      '[FIRING critical] ForwardQueueStuck {stage="forward"}: The oldest forward job is 742 s old',
    );
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.info).toHaveBeenCalledTimes(1);
  });
});
