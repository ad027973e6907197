import { Value } from '@sinclair/typebox/value';
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IDefaultPolicyContext,
  type IPolicy,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { Pool } from 'undici';
import { parseJson } from '../../platform/http/json.js';
import { BREAKER_STATES } from '../../platform/resilience/breaker.js';
import {
  PayoutErrorBodySchema,
  type PayoutGateway,
  type PayoutReceipt,
  PayoutReceiptSchema,
  PayoutRejectedError,
  type PayoutRequest,
  PayoutRetryableError,
  type PayoutUnavailableReason,
} from './port.js';

export interface HttpPayoutGatewayOptions {
  /** Base URL; payouts are POSTed to `<url>/payouts`. */
  url: string;
  apiKey: string;
  /** Per attempt, aborting the request. */
  timeoutMs?: number;
  /** Extra attempts in place after the first, for retryable failures only. */
  retries?: number;
  backoff?: { initialDelayMs?: number; maxDelayMs?: number };
  breaker?: { consecutiveFailures?: number; halfOpenAfterMs?: number };
  onBreakerChange?: (state: 'closed' | 'open' | 'half-open') => void;
}

const MAX_BODY_CHARS = 16 * 1024;

/**
 * A payment provider's JSON API (README.md), guarded (outermost first) by a circuit breaker (after
 * `consecutiveFailures` calls that failed even after their retries, fail fast for `halfOpenAfterMs`), retries with
 * jittered exponential backoff, and a per-attempt timeout. Only `PayoutRetryableError`s are retried or counted by
 * the breaker: a refusal is the provider working as intended. Every attempt sends the same `Idempotency-Key`, so a
 * retried or repeated call cannot pay twice.
 */
export class HttpPayoutGateway implements PayoutGateway {
  readonly name = 'payments-http';
  private readonly pool: Pool;
  private readonly path: string;
  private readonly authorization: string;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly policy: IPolicy<IDefaultPolicyContext>;
  private readonly halfOpenAfterMs: number;
  private openedAt = 0;

  constructor(opts: HttpPayoutGatewayOptions) {
    const base = new URL(opts.url);
    if (!opts.apiKey) throw new Error('payment provider: apiKey is empty');
    this.pool = new Pool(base.origin, { connections: 8 });
    this.path = `${base.pathname.replace(/\/+$/, '')}/payouts`;
    this.authorization = `Bearer ${opts.apiKey}`;
    this.halfOpenAfterMs = opts.breaker?.halfOpenAfterMs ?? 10_000;
    const maxDelayMs = opts.backoff?.maxDelayMs ?? 2000;
    this.breaker = circuitBreaker(
      // "That key is being processed right now" is no sign of an unhealthy provider.
      handleWhen((e) => e instanceof PayoutRetryableError && e.reason !== 'conflict'),
      {
        halfOpenAfter: this.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(opts.breaker?.consecutiveFailures ?? 5),
      },
    );
    this.breaker.onBreak(() => {
      this.openedAt = Date.now();
    });
    const onChange = opts.onBreakerChange;
    if (onChange) this.breaker.onStateChange((s) => onChange(BREAKER_STATES[s]));
    this.policy = wrap(
      this.breaker,
      retry(
        handleWhen((e) => e instanceof PayoutRetryableError && e.retryAfterMs <= maxDelayMs),
        {
          maxAttempts: opts.retries ?? 2,
          backoff: new ExponentialBackoff({
            initialDelay: opts.backoff?.initialDelayMs ?? 100,
            maxDelay: maxDelayMs,
          }),
        },
      ),
      timeout(opts.timeoutMs ?? 5000, TimeoutStrategy.Cooperative),
    );
  }

  async pay(p: PayoutRequest, signal?: AbortSignal): Promise<PayoutReceipt> {
    const body = JSON.stringify({ recipient: p.citizenId, amountSum: p.amountSum, currency: 'UZS' });
    try {
      return await this.policy.execute(
        ({ signal: attempt }) => this.attempt(p.idempotencyKey, body, attempt, signal),
        signal,
      );
    } catch (err) {
      signal?.throwIfAborted();
      if (err instanceof BrokenCircuitError) {
        throw new PayoutRetryableError('breaker_open', 'payment provider circuit is open', {
          retryAfterMs: Math.max(0, this.openedAt + this.halfOpenAfterMs - Date.now()),
          cause: err,
        });
      }
      throw err;
    }
  }

  breakerState(): 'closed' | 'open' | 'half-open' {
    return BREAKER_STATES[this.breaker.state];
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async attempt(
    idempotencyKey: string,
    body: string,
    attemptSignal: AbortSignal,
    callerSignal: AbortSignal | undefined,
  ): Promise<PayoutReceipt> {
    let status: number;
    let retryAfter: string | string[] | undefined;
    let text: string;
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: {
          authorization: this.authorization,
          'content-type': 'application/json',
          accept: 'application/json',
          'idempotency-key': idempotencyKey,
        },
        body,
        signal: attemptSignal,
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      text = (await res.body.text()).slice(0, MAX_BODY_CHARS);
    } catch (err) {
      // The caller giving up is not the provider's failure: no retry, no breaker count.
      callerSignal?.throwIfAborted();
      const reason = attemptSignal.aborted ? 'timeout' : 'network';
      throw new PayoutRetryableError(
        reason,
        `payment provider: ${reason === 'timeout' ? 'timed out' : 'network error'}`,
        {
          cause: err,
        },
      );
    }
    if (status === 200 || status === 201) {
      const answer = parseJson(text);
      if (Value.Check(PayoutReceiptSchema, answer))
        return { reference: answer.reference, duplicate: answer.duplicate };
      // The payment may well have been made; asking again with the same key finds out.
      throw new PayoutRetryableError(
        'bad_response',
        `payment provider answered ${status} with an unexpected body`,
        {
          status,
        },
      );
    }
    throw classify(status, text, retryAfter);
  }
}

const RETRYABLE_STATUS: Record<number, PayoutUnavailableReason> = {
  408: 'timeout',
  409: 'conflict',
  429: 'rate_limited',
};

function classify(status: number, text: string, retryAfter: string | string[] | undefined): Error {
  const parsed = parseJson(text);
  const body = Value.Check(PayoutErrorBodySchema, parsed) ? parsed : undefined;
  const reason =
    RETRYABLE_STATUS[status] ?? (status >= 500 ? 'server_error' : status < 400 ? 'bad_response' : undefined);
  if (reason) {
    return new PayoutRetryableError(
      reason,
      `payment provider answered ${status}${body ? ` ${body.code}: ${body.message}` : ''}`,
      { status, retryAfterMs: parseRetryAfter(retryAfter) },
    );
  }
  return new PayoutRejectedError(
    status,
    body?.code ?? `HTTP_${status}`,
    body?.message ?? (text.slice(0, 200) || 'no message'),
  );
}

/** Seconds or an HTTP date, as RFC 9110 allows. */
function parseRetryAfter(h: string | string[] | undefined): number {
  const v = (Array.isArray(h) ? h[0] : h)?.trim();
  if (!v) return 0;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}
