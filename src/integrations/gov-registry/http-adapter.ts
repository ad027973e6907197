import '../../platform/formats.js';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IDefaultPolicyContext,
  type IPolicy,
  type IRetryBackoffContext,
  bulkhead as makeBulkhead,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { BalancedPool } from 'undici';
import { parseJson } from '../../platform/http/json.js';
import { BREAKER_STATES } from '../../platform/resilience/breaker.js';
import {
  type AppealDecision,
  type AppealDecisionReceipt,
  AppealDecisionReceiptSchema,
  type BreakerState,
  type CaseReceipt,
  CaseReceiptSchema,
  type CaseSubmission,
  type GovCase,
  GovCaseSchema,
  type GovRegistry,
  RegistryErrorBodySchema,
  RegistryRejectedError,
  RegistryUnavailableError,
  type UnavailableReason,
} from './port.js';

export interface HttpGovRegistryOptions {
  /** Base URLs of the registry's replicas; requests are balanced over them. All must share one path prefix. */
  urls: string[];
  apiKey: string;
  /** Per attempt, not per call: a call may take up to (retries + 1) × timeoutMs plus backoff. */
  timeoutMs?: number;
  /** Extra attempts after the first, in place, for retryable failures only. */
  retries?: number;
  backoff?: { initialDelayMs?: number; maxDelayMs?: number };
  breaker?: { consecutiveFailures?: number; halfOpenAfterMs?: number };
  bulkhead?: { maxConcurrent?: number; maxQueued?: number };
  onBreakerChange?: (state: BreakerState) => void;
}

/** Enough of an error body to show the registry's message; a body past this is not an answer we can use. */
const MAX_BODY_CHARS = 64 * 1024;

/**
 * The registry's HTTP API, guarded (outermost first) by a bulkhead (at most `maxConcurrent` calls in flight, then a
 * bounded queue, then fail fast), a circuit breaker (after `consecutiveFailures` calls that failed even after their
 * retries, fail fast for `halfOpenAfterMs`), retries with jittered exponential backoff, and a per-attempt timeout
 * that aborts the request. Only `RegistryUnavailableError`s are retried or counted by the breaker; a rejection is the
 * registry working as intended.
 *
 * Retrying a POST cannot create a second case: every attempt carries `Idempotency-Key: <reportId>` and the registry
 * answers a known report id with the case it already created.
 */
export class HttpGovRegistry implements GovRegistry {
  readonly name = 'gov-registry-http';
  private readonly pool: BalancedPool;
  private readonly basePath: string;
  private readonly authorization: string;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly policy: IPolicy<IDefaultPolicyContext>;
  private readonly halfOpenAfterMs: number;
  private openedAt = 0;

  constructor(opts: HttpGovRegistryOptions) {
    const { origins, basePath } = parseBaseUrls(opts.urls);
    if (!opts.apiKey) throw new Error('gov registry: apiKey is empty');
    const timeoutMs = opts.timeoutMs ?? 5000;
    const retries = opts.retries ?? 3;
    const maxDelayMs = opts.backoff?.maxDelayMs ?? 2000;
    const maxConcurrent = opts.bulkhead?.maxConcurrent ?? 8;
    this.halfOpenAfterMs = opts.breaker?.halfOpenAfterMs ?? 10_000;
    this.basePath = basePath;
    this.authorization = `Bearer ${opts.apiKey}`;
    this.pool = new BalancedPool(origins, { connections: maxConcurrent });

    // A 409 says "that key is being processed right now", which is no sign of an unhealthy registry.
    this.breaker = circuitBreaker(
      handleWhen((e) => e instanceof RegistryUnavailableError && e.reason !== 'conflict'),
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

    // When the registry asks for a longer wait than we would sleep in place, give the wait back to the caller's
    // queue instead of holding a bulkhead slot.
    const retryPolicy = retry(
      handleWhen((e) => e instanceof RegistryUnavailableError && e.retryAfterMs <= maxDelayMs),
      {
        maxAttempts: retries,
        backoff: honourRetryAfter(
          new ExponentialBackoff({ initialDelay: opts.backoff?.initialDelayMs ?? 100, maxDelay: maxDelayMs }),
        ),
      },
    );
    this.policy = wrap(
      makeBulkhead(maxConcurrent, opts.bulkhead?.maxQueued ?? 64),
      this.breaker,
      retryPolicy,
      timeout(timeoutMs, TimeoutStrategy.Cooperative),
    );
  }

  submitCase(c: CaseSubmission, signal?: AbortSignal): Promise<CaseReceipt> {
    const body = JSON.stringify(c);
    return this.run(signal, async (attemptSignal) => {
      const res = await this.send(
        { method: 'POST', path: '/v1/cases', body, idempotencyKey: c.reportId },
        attemptSignal,
        signal,
      );
      if (res.status === 200 || res.status === 201) {
        const r = expectBody(res, CaseReceiptSchema);
        return { caseNumber: r.caseNumber, acceptedAt: r.acceptedAt, duplicate: r.duplicate };
      }
      throw classifyFailure(res);
    });
  }

  getCase(reportId: string, signal?: AbortSignal): Promise<GovCase | null> {
    return this.run(signal, async (attemptSignal) => {
      const res = await this.send(
        { method: 'GET', path: `/v1/cases/${encodeURIComponent(reportId)}` },
        attemptSignal,
        signal,
      );
      if (res.status === 200) {
        const r = expectBody(res, GovCaseSchema);
        return { caseNumber: r.caseNumber, status: r.status, amountSum: r.amountSum };
      }
      // A bare 404 may be a wrong base URL; only the registry's own "no such case" means the case does not exist.
      if (res.status === 404 && errorBody(res)?.code === 'CASE_NOT_FOUND') return null;
      throw classifyFailure(res);
    });
  }

  decideAppeal(d: AppealDecision, signal?: AbortSignal): Promise<AppealDecisionReceipt> {
    const body = JSON.stringify(d);
    return this.run(signal, async (attemptSignal) => {
      const res = await this.send(
        {
          method: 'POST',
          path: `/v1/cases/${encodeURIComponent(d.reportId)}/appeal-decisions`,
          body,
          idempotencyKey: d.appealId,
        },
        attemptSignal,
        signal,
      );
      if (res.status === 200 || res.status === 201) {
        const r = expectBody(res, AppealDecisionReceiptSchema);
        return { appealId: r.appealId, caseStatus: r.caseStatus, duplicate: r.duplicate };
      }
      throw classifyFailure(res);
    });
  }

  breakerState(): BreakerState {
    return BREAKER_STATES[this.breaker.state];
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async run<T>(
    signal: AbortSignal | undefined,
    fn: (attemptSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.policy.execute(({ signal: attemptSignal }) => fn(attemptSignal), signal);
    } catch (err) {
      signal?.throwIfAborted();
      if (err instanceof BrokenCircuitError) {
        const retryAfterMs = Math.max(0, this.openedAt + this.halfOpenAfterMs - Date.now());
        throw new RegistryUnavailableError('breaker_open', 'gov registry circuit is open', {
          retryAfterMs,
          cause: err,
        });
      }
      if (err instanceof BulkheadRejectedError) {
        throw new RegistryUnavailableError('bulkhead_full', 'too many gov registry calls in flight', {
          retryAfterMs: 0,
          cause: err,
        });
      }
      throw err;
    }
  }

  private async send(
    req: { method: 'GET' | 'POST'; path: string; body?: string; idempotencyKey?: string },
    attemptSignal: AbortSignal,
    callerSignal: AbortSignal | undefined,
  ): Promise<RawResponse> {
    const headers: Record<string, string> = { authorization: this.authorization, accept: 'application/json' };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
    try {
      const res = await this.pool.request({
        method: req.method,
        path: this.basePath + req.path,
        headers,
        body: req.body,
        signal: attemptSignal,
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text: text.slice(0, MAX_BODY_CHARS) };
    } catch (err) {
      // The caller giving up is not the registry's failure: no retry, no breaker count.
      callerSignal?.throwIfAborted();
      if (attemptSignal.aborted) {
        throw new RegistryUnavailableError('timeout', `gov registry ${req.method} ${req.path} timed out`, {
          retryAfterMs: 0,
          cause: err,
        });
      }
      throw new RegistryUnavailableError('network', `gov registry ${req.method} ${req.path}: network error`, {
        retryAfterMs: 0,
        cause: err,
      });
    }
  }
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function parseBaseUrls(urls: string[]): { origins: string[]; basePath: string } {
  if (urls.length === 0) throw new Error('gov registry: no base URL');
  const parsed = urls.map((u) => new URL(u));
  // BalancedPool balances origins only, so replicas must serve the API under the same path.
  const paths = new Set(parsed.map((u) => u.pathname.replace(/\/+$/, '')));
  if (paths.size > 1) throw new Error(`gov registry: base URLs differ in path (${[...paths].join(', ')})`);
  return { origins: parsed.map((u) => u.origin), basePath: [...paths][0] ?? '' };
}

function expectBody<S extends TSchema>(res: RawResponse, schema: S): Static<S> {
  const body = parseJson(res.text);
  if (Value.Check(schema, body)) return body;
  // The case may well exist; asking again with the same key is safe and finds out.
  throw new RegistryUnavailableError(
    'bad_response',
    `gov registry answered ${res.status} with an unexpected body`,
    {
      retryAfterMs: 0,
      status: res.status,
    },
  );
}

function errorBody(res: RawResponse) {
  const body = parseJson(res.text);
  return Value.Check(RegistryErrorBodySchema, body) ? body : undefined;
}

/** Seconds or an HTTP date, as RFC 9110 allows. */
function parseRetryAfter(h: string | string[] | undefined): number {
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return 0;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

const RETRYABLE_STATUS: Record<number, UnavailableReason> = {
  408: 'timeout',
  409: 'conflict',
  429: 'rate_limited',
};

function classifyFailure(res: RawResponse): Error {
  const body = errorBody(res);
  const reason: UnavailableReason | undefined =
    RETRYABLE_STATUS[res.status] ??
    (res.status >= 500 ? 'server_error' : res.status < 400 ? 'bad_response' : undefined);
  if (reason) {
    return new RegistryUnavailableError(
      reason,
      `gov registry answered ${res.status}${body ? ` ${body.code}: ${body.message}` : ''}`,
      { retryAfterMs: parseRetryAfter(res.headers['retry-after']), status: res.status },
    );
  }
  return new RegistryRejectedError(
    res.status,
    body?.code ?? `HTTP_${res.status}`,
    body?.message ?? (res.text.slice(0, 200) || 'no message'),
    body?.field,
  );
}

/** Jittered exponential backoff, but never sooner than the registry's own Retry-After. */
function honourRetryAfter(inner: IBackoffFactory<unknown>): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const wrapBackoff = (
    b: IBackoff<unknown>,
    ctx: IRetryBackoffContext<unknown>,
  ): IBackoff<IRetryBackoffContext<unknown>> => {
    const err = 'error' in ctx.result ? ctx.result.error : undefined;
    const hint = err instanceof RegistryUnavailableError ? err.retryAfterMs : 0;
    return { duration: Math.max(b.duration, hint), next: (next) => wrapBackoff(b.next(next), next) };
  };
  return { next: (ctx) => wrapBackoff(inner.next(ctx), ctx) };
}
