import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { RegistryEvent } from './port.js';
import { signWebhook, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from './webhook-signature.js';

export interface WebhookRetryOptions {
  /** Wait before the second attempt; doubles after each failure. */
  initialDelayMs?: number;
  maxAttempts?: number;
  /** Per attempt. */
  timeoutMs?: number;
}

export interface WebhookCounters {
  webhooksDelivered: number;
  /** Failed attempts (each retry that follows one counts once). */
  webhookFailures: number;
  /** Events given up on after the last attempt. */
  webhooksAbandoned: number;
}

/**
 * At-least-once delivery as a real registry would do it: a non-2xx answer or a network error is retried with
 * doubling delays, and every retry carries the same event id so the receiver can dedupe. Each attempt is signed
 * afresh, so a delivery retried for longer than the receiver's tolerance is not refused as stale.
 */
export class WebhookSender {
  private pool: Pool | null = null;
  private url: URL | null = null;
  private readonly stopping = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();

  /** `target` may be a function: the receiver's address is then read at the first delivery (it may listen later). */
  constructor(
    private readonly target: string | (() => string),
    private readonly secret: string,
    private readonly counters: WebhookCounters,
    private readonly retry: Required<WebhookRetryOptions>,
  ) {}

  private endpoint(): { pool: Pool; url: URL } {
    if (!this.pool || !this.url) {
      this.url = new URL(typeof this.target === 'string' ? this.target : this.target());
      this.pool = new Pool(this.url.origin);
    }
    return { pool: this.pool, url: this.url };
  }

  send(event: RegistryEvent): void {
    const p = this.deliver(event).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight]);
    await this.pool?.destroy();
  }

  private async deliver(event: RegistryEvent): Promise<void> {
    const body = JSON.stringify(event);
    let delay = this.retry.initialDelayMs;
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt++) {
      if (this.stopping.signal.aborted) return;
      if (await this.attempt(body)) {
        this.counters.webhooksDelivered++;
        return;
      }
      if (this.stopping.signal.aborted) return;
      this.counters.webhookFailures++;
      if (attempt === this.retry.maxAttempts) break;
      try {
        await sleep(delay, undefined, { signal: this.stopping.signal });
      } catch {
        return;
      }
      delay *= 2;
    }
    this.counters.webhooksAbandoned++;
  }

  private async attempt(body: string): Promise<boolean> {
    const ts = Math.floor(Date.now() / 1000);
    try {
      const { pool, url } = this.endpoint();
      const res = await pool.request({
        method: 'POST',
        path: url.pathname + url.search,
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_TIMESTAMP_HEADER]: String(ts),
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(this.secret, ts, body),
        },
        body,
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.retry.timeoutMs)]),
      });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      return false;
    }
  }
}
