/** The outbound e-mail port. Adapters: `SmtpEmailSender` (any SMTP relay) and `EmailOutbox` (the local simulator). */
export interface EmailSender {
  readonly name: string;
  /** Throws `EmailRetryableError` or `EmailRejectedError`. */
  send(m: EmailMessage): Promise<{ messageId: string }>;
}

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /**
   * SMTP cannot refuse a repeat, so a retried send may arrive twice; with a key, both copies carry the same
   * Message-ID (`messageIdFor`), which mail clients and relays use to recognise the second as a duplicate.
   */
  idempotencyKey?: string;
}

/**
 * `<key@jarima>`, with every character a Message-ID may not hold unescaped (RFC 5322 dot-atom-text) written as
 * `%XX` UTF-8 bytes. Dots are escaped too, since a dot-atom may not start, end or double them; `%` itself is
 * escaped, so distinct keys always give distinct ids.
 */
export function messageIdFor(idempotencyKey: string): string {
  const local = Array.from(Buffer.from(idempotencyKey, 'utf8'), (byte) => {
    const c = String.fromCharCode(byte);
    return /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
  return `<${local}@jarima>`;
}

/**
 * The relay could not take the message now (connection refused or lost, a timeout, a 4xx reply such as greylisting
 * or a full queue). The caller's queue retries with backoff and the same idempotency key.
 */
export class EmailRetryableError extends Error {
  readonly retryable = true;
  readonly responseCode: number | undefined;
  constructor(message: string, opts: { responseCode?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'EmailRetryableError';
    this.responseCode = opts.responseCode;
  }
}

/**
 * The relay refused the message for good (a 5xx reply: unknown mailbox, policy, our credentials) or it could not be
 * composed. The caller records `code` and stops. Messages never contain the address, since these end up in logs.
 */
export class EmailRejectedError extends Error {
  readonly retryable = false;
  readonly responseCode: number | undefined;
  readonly code: string;
  constructor(code: string, message: string, opts: { responseCode?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'EmailRejectedError';
    this.code = code;
    this.responseCode = opts.responseCode;
  }
}
