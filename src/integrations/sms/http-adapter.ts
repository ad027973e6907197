import { Value } from '@sinclair/typebox/value';
import { Pool } from 'undici';
import { parseJson } from '../../platform/http/json.js';
import { GatewayErrorBodySchema, SendMessageResponseSchema } from './http-wire.js';
import { type SmsGateway, SmsRejectedError, SmsRetryableError, type SmsSendOptions } from './port.js';

export interface HttpSmsGatewayOptions {
  /** Base URL; the API lives under `<url>/v1/messages`. */
  url: string;
  apiKey: string;
  /** For the whole call: connecting, sending and reading the answer. */
  timeoutMs?: number;
}

/** Enough of an error body to show the gateway's message. */
const MAX_BODY_CHARS = 16 * 1024;

/**
 * The SMS gateway's HTTP API. One attempt per call, no retries in place: the caller's job queue retries
 * `SmsRetryableError`s with backoff, and the idempotency key keeps a retry from sending the message twice.
 */
export class HttpSmsGateway implements SmsGateway {
  readonly name = 'sms-http';
  private readonly pool: Pool;
  private readonly path: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;

  constructor(opts: HttpSmsGatewayOptions) {
    const base = new URL(opts.url);
    if (!opts.apiKey) throw new Error('SMS gateway: apiKey is empty');
    this.pool = new Pool(base.origin);
    this.path = `${base.pathname.replace(/\/+$/, '')}/v1/messages`;
    this.authorization = `Bearer ${opts.apiKey}`;
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  async send(to: string, text: string, opts: SmsSendOptions = {}): Promise<{ messageId: string }> {
    const headers: Record<string, string> = {
      authorization: this.authorization,
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let retryAfter: string | string[] | undefined;
    let body: string;
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers,
        body: JSON.stringify({ to, text }),
        signal,
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      body = (await res.body.text()).slice(0, MAX_BODY_CHARS);
    } catch (err) {
      // Whether or not the gateway got the message, asking again with the same key is safe.
      const what = signal.aborted ? `timed out after ${this.timeoutMs} ms` : 'network error';
      throw new SmsRetryableError(`SMS gateway: ${what}`, { cause: err });
    }

    if (status === 200 || status === 201) {
      const answer = parseJson(body);
      if (Value.Check(SendMessageResponseSchema, answer)) return { messageId: answer.messageId };
      throw new SmsRetryableError(`SMS gateway answered ${status} without a messageId`, { status });
    }
    const error = parseJson(body);
    const detail = Value.Check(GatewayErrorBodySchema, error) ? error : undefined;
    if (status === 408 || status === 429 || status >= 500 || status < 400) {
      throw new SmsRetryableError(
        `SMS gateway answered ${status}${detail ? ` ${detail.code}: ${detail.message}` : ''}`,
        { status, retryAfterMs: parseRetryAfter(retryAfter) },
      );
    }
    throw new SmsRejectedError(
      status,
      detail?.code ?? `HTTP_${status}`,
      detail?.message ?? (body.slice(0, 200) || 'no message'),
    );
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** Seconds or an HTTP date, as RFC 9110 allows. */
function parseRetryAfter(h: string | string[] | undefined): number {
  const v = (Array.isArray(h) ? h[0] : h)?.trim();
  if (!v) return 0;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}
