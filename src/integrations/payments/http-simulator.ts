import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Value } from '@sinclair/typebox/value';
import { parseJson } from '../../platform/http/json.js';
import { headerValue, readBody, replyJson, serveLocally } from '../../platform/http/raw.js';
import { type PayoutEvent, type PayoutReceipt, PayoutRejectedError, PayoutRequestSchema } from './port.js';
import type { PayoutSimulator } from './simulator.js';
import {
  signPayoutWebhook,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from './webhook-signature.js';

export interface PayoutProviderSimulatorOptions {
  apiKey: string;
  /** Where payments are kept (the database-backed simulator): the provider's own books. */
  store: PayoutSimulator;
  /** 0 picks a free port. */
  port?: number;
  /** Where settled/failed callbacks go (read at each delivery, so the receiver may listen later); none if unset. */
  webhookUrl?: () => string;
  webhookSecret?: string;
  /** How long after a new payment its callback is sent. */
  settleAfterMs?: number;
}

export interface PayoutProviderSimulator {
  url: string;
  stop(): Promise<void>;
  /**
   * Read on every request, so tests change them while it runs: `down` answers every request 503, `errorStatus`
   * (with `errorRate`) answers that status instead of serving, `outcome` is what the callbacks report.
   */
  control: {
    down: boolean;
    errorRate: number;
    errorStatus: number;
    latencyMs: number;
    /** The next this many requests fail as `errorStatus`, then it serves again. */
    failNext: number;
    /** Sent as Retry-After with injected failures (0: none). */
    retryAfterSeconds: number;
    outcome: 'settled' | 'failed';
  };
  /** Requests seen, payments newly made, callbacks delivered. */
  stats(): { requests: number; paid: number; refused: number; callbacks: number };
}

const MAX_BODY_BYTES = 16 * 1024;

/**
 * A real HTTP server speaking the payment provider API of README.md, for contract and outage tests of
 * `HttpPayoutGateway` and for running Jarima against the HTTP path. Its payments live in the database, so a
 * restarted simulator answers a known key with the reference it gave before.
 */
export async function startPayoutProviderSimulator(
  opts: PayoutProviderSimulatorOptions,
): Promise<PayoutProviderSimulator> {
  const control = {
    down: false,
    errorRate: 0,
    errorStatus: 503,
    latencyMs: 0,
    retryAfterSeconds: 1,
    failNext: 0,
    outcome: 'settled' as 'settled' | 'failed',
  };
  const counts = { requests: 0, paid: 0, refused: 0, callbacks: 0 };
  const expectedAuth = `Bearer ${opts.apiKey}`;
  const stopping = new AbortController();
  const deliveries = new Set<Promise<void>>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/health') return replyJson(res, 200, { ok: true });
    if (req.method !== 'POST' || req.url !== '/payouts')
      return replyJson(res, 404, { code: 'NOT_FOUND', message: 'no such endpoint' });
    counts.requests++;
    if (control.latencyMs > 0) await sleep(control.latencyMs);
    const injected = control.failNext > 0 || Math.random() < control.errorRate;
    if (control.failNext > 0) control.failNext--;
    if (control.down || injected) {
      counts.refused++;
      if (control.retryAfterSeconds > 0) res.setHeader('retry-after', String(control.retryAfterSeconds));
      return replyJson(res, control.down ? 503 : control.errorStatus, {
        code: 'UNAVAILABLE',
        message: 'injected failure',
      });
    }
    if (req.headers.authorization !== expectedAuth)
      return replyJson(res, 401, { code: 'UNAUTHENTICATED', message: 'missing or wrong API key' });
    const key = headerValue(req.headers['idempotency-key']);
    if (!key || key.length > 255)
      return replyJson(res, 400, {
        code: 'IDEMPOTENCY_KEY_REQUIRED',
        message: 'send an Idempotency-Key header',
      });
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === null) return replyJson(res, 413, { code: 'BODY_TOO_LARGE', message: 'body too large' });
    const body = parseJson(raw);
    if (!Value.Check(PayoutRequestSchema, body)) {
      const first = Value.Errors(PayoutRequestSchema, body).First();
      return replyJson(res, 400, {
        code: 'VALIDATION_FAILED',
        message: first?.message ?? 'invalid body',
        ...(first ? { field: first.path } : {}),
      });
    }
    let receipt: PayoutReceipt;
    try {
      receipt = await opts.store.pay({
        idempotencyKey: key,
        citizenId: body.recipient,
        amountSum: body.amountSum,
      });
    } catch (err) {
      if (err instanceof PayoutRejectedError)
        return replyJson(res, err.status, { code: err.code, message: err.message });
      throw err;
    }
    if (!receipt.duplicate) {
      counts.paid++;
      schedule({ reference: receipt.reference, idempotencyKey: key, amountSum: body.amountSum });
    }
    replyJson(res, receipt.duplicate ? 200 : 201, receipt);
  }

  function schedule(p: { reference: string; idempotencyKey: string; amountSum: number }): void {
    if (!opts.webhookUrl || !opts.webhookSecret) return;
    const d = deliver(p).finally(() => deliveries.delete(d));
    deliveries.add(d);
  }

  /** At least once: retried with doubling delays under the same event id, signed afresh each attempt. */
  async function deliver(p: { reference: string; idempotencyKey: string; amountSum: number }): Promise<void> {
    const { signal } = stopping;
    try {
      await sleep(opts.settleAfterMs ?? 200, undefined, { signal });
      const event: PayoutEvent = {
        id: `evt_${randomUUID()}`,
        type: control.outcome === 'settled' ? 'payout.settled' : 'payout.failed',
        ...p,
        ...(control.outcome === 'failed' ? { reason: 'the recipient’s account is closed' } : {}),
        occurredAt: new Date().toISOString(),
      };
      const body = JSON.stringify(event);
      for (let attempt = 0, delay = 100; attempt < 10; attempt++, delay *= 2) {
        const ts = Math.floor(Date.now() / 1000);
        const ok = await fetch(opts.webhookUrl!(), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [WEBHOOK_ID_HEADER]: event.id,
            [WEBHOOK_TIMESTAMP_HEADER]: String(ts),
            [WEBHOOK_SIGNATURE_HEADER]: signPayoutWebhook(opts.webhookSecret!, event.id, ts, body),
          },
          body,
          signal,
        }).then(
          async (r) => {
            await r.arrayBuffer();
            return r.ok;
          },
          () => false,
        );
        if (ok) {
          counts.callbacks++;
          return;
        }
        await sleep(delay, undefined, { signal });
      }
    } catch {
      // stopped
    }
  }

  const { server, port } = await serveLocally(handle, opts.port);
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    control,
    stats: () => ({ ...counts }),
    stop: () => {
      stopped ??= (async () => {
        stopping.abort();
        await Promise.allSettled([...deliveries]);
        await new Promise<void>((resolve, reject) => {
          server.close((err) => (err ? reject(err) : resolve()));
          // Keep-alive connections would hold close() open until their idle timeout.
          server.closeAllConnections();
        });
      })();
      return stopped;
    },
  };
}
