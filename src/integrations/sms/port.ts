/** The outbound SMS port. Adapters: the local simulator (default) and `HttpSmsGateway` (the gateway's HTTP API). */
export interface SmsGateway {
  readonly name: string;
  /**
   * Sends one message. With `idempotencyKey`, a retried send (same key) is delivered at most once: the adapter
   * returns the first send's `messageId`. Throws `SmsRetryableError` or `SmsRejectedError`.
   */
  send(to: string, text: string, opts?: SmsSendOptions): Promise<{ messageId: string }>;
}

export interface SmsSendOptions {
  idempotencyKey?: string;
}

/**
 * The gateway could not take the message now (network, timeout, 5xx, 429). The caller's queue retries, no sooner
 * than `retryAfterMs`; pass the same idempotency key so a send that did get through is not repeated.
 */
export class SmsRetryableError extends Error {
  readonly retryable = true;
  readonly status: number | undefined;
  readonly retryAfterMs: number;
  constructor(message: string, opts: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'SmsRetryableError';
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs ?? 0;
  }
}

/**
 * The gateway refused this message (an invalid number, our credentials, a malformed request): sending it again
 * cannot help, so the caller records `code` and stops. We never put the phone number in the message, since it ends
 * up in logs; the gateway's own wording is passed on as it comes.
 */
export class SmsRejectedError extends Error {
  readonly retryable = false;
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(`SMS gateway rejected the message (${status} ${code}): ${message}`);
    this.name = 'SmsRejectedError';
    this.status = status;
    this.code = code;
  }
}
