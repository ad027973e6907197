import { randomUUID } from 'node:crypto';
import { type EmailMessage, type EmailSender, messageIdFor } from './port.js';

export interface SentEmail {
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html: string | undefined;
  sentAt: string;
}

/**
 * A local stand-in for an SMTP relay, active when none is configured: it "sends" by keeping the newest `capacity`
 * messages in memory for a developer to read. Like a relay, it keeps a retried send twice, under one Message-ID.
 */
export class EmailOutbox implements EmailSender {
  readonly name = 'email-outbox';
  private readonly sent: SentEmail[] = [];
  constructor(
    private readonly onSend: (mail: SentEmail) => void = () => {},
    private readonly capacity = 1000,
  ) {}

  async send(m: EmailMessage): Promise<{ messageId: string }> {
    const mail: SentEmail = {
      messageId: m.idempotencyKey === undefined ? `<${randomUUID()}@jarima>` : messageIdFor(m.idempotencyKey),
      to: m.to,
      subject: m.subject,
      text: m.text,
      html: m.html,
      sentAt: new Date().toISOString(),
    };
    this.sent.push(mail);
    if (this.sent.length > this.capacity) this.sent.shift();
    this.onSend(mail);
    return { messageId: mail.messageId };
  }

  /** Newest first. */
  outbox(to?: string): SentEmail[] {
    return this.sent.filter((s) => to === undefined || s.to === to).reverse();
  }
}
