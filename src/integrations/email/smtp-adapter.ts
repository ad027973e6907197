import { createTransport, type Transporter } from 'nodemailer';
import {
  type EmailMessage,
  EmailRejectedError,
  EmailRetryableError,
  type EmailSender,
  messageIdFor,
} from './port.js';

export interface SmtpEmailSenderOptions {
  /** `smtp://user:pass@host:port` (or `smtps://` for TLS from the first byte); nodemailer's URL query options apply. */
  url: string;
  /** The From header, e.g. `Jarima <no-reply@jarima.uz>`. */
  from: string;
  /** For connecting, the greeting and each reply; a relay slower than this is treated as down. */
  timeoutMs?: number;
}

/**
 * Errors nodemailer raises when the message or our configuration is at fault rather than the relay's state; any
 * other code without an SMTP reply (connection, socket, DNS, TLS, protocol) is worth retrying.
 */
const PERMANENT_CODES = new Set([
  'EENVELOPE',
  'EMESSAGE',
  'ESTREAM',
  'EAUTH',
  'ENOAUTH',
  'EOAUTH2',
  'ECONFIG',
  'EREQUIRETLS',
  'EFILEACCESS',
  'EURLACCESS',
]);

/** Any SMTP relay, over a small pool of reused connections. Call `close()` on shutdown. */
export class SmtpEmailSender implements EmailSender {
  readonly name = 'smtp';
  private readonly transport: Transporter;

  constructor(opts: SmtpEmailSenderOptions) {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    this.transport = createTransport(
      {
        url: opts.url,
        pool: true,
        maxConnections: 5,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      },
      { from: opts.from },
    );
  }

  async send(m: EmailMessage): Promise<{ messageId: string }> {
    try {
      const info = await this.transport.sendMail({
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        messageId: m.idempotencyKey === undefined ? undefined : messageIdFor(m.idempotencyKey),
      });
      return { messageId: String(info.messageId) };
    } catch (err) {
      throw classify(err);
    }
  }

  close(): void {
    this.transport.close();
  }
}

function classify(err: unknown): EmailRetryableError | EmailRejectedError {
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; command?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const command = typeof e.command === 'string' ? ` after ${e.command}` : '';
  // The relay's own words often quote the address, so they stay in `cause`, not in the message.
  const what = `SMTP ${code}${responseCode ? ` ${responseCode}` : ''}${command}`;
  if (responseCode !== undefined && responseCode >= 500) {
    return new EmailRejectedError(code, `${what}: refused`, { responseCode, cause: err });
  }
  if (responseCode !== undefined && responseCode >= 400) {
    return new EmailRetryableError(`${what}: try again later`, { responseCode, cause: err });
  }
  if (PERMANENT_CODES.has(code)) return new EmailRejectedError(code, `${what}: refused`, { cause: err });
  return new EmailRetryableError(`${what}: relay unavailable`, { cause: err });
}
