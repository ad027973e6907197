import { randomUUID } from 'node:crypto';
import type { SmsGateway, SmsSendOptions } from './port.js';

export interface SentSms {
  messageId: string;
  to: string;
  text: string;
  sentAt: string;
}

/**
 * A local stand-in for an SMS gateway: it "sends" by keeping the message in memory (the newest `capacity`) so a
 * developer can read it at GET /v1/dev/outbox. Only ever active when no real gateway is configured.
 */
export class SmsSimulator implements SmsGateway {
  readonly name = 'sms-simulator';
  private readonly sent: SentSms[] = [];
  /** Idempotency key → messageId, bounded like the outbox (a Map iterates oldest first). */
  private readonly byKey = new Map<string, string>();
  constructor(
    private readonly onSend: (sms: SentSms) => void = () => {},
    private readonly capacity = 1000,
  ) {}

  async send(to: string, text: string, opts: SmsSendOptions = {}): Promise<{ messageId: string }> {
    const key = opts.idempotencyKey;
    const known = key === undefined ? undefined : this.byKey.get(key);
    if (known !== undefined) return { messageId: known };
    const sms = { messageId: randomUUID(), to, text, sentAt: new Date().toISOString() };
    this.sent.push(sms);
    if (this.sent.length > this.capacity) this.sent.shift();
    if (key !== undefined) {
      this.byKey.set(key, sms.messageId);
      if (this.byKey.size > this.capacity) this.byKey.delete(this.byKey.keys().next().value!);
    }
    this.onSend(sms);
    return { messageId: sms.messageId };
  }

  outbox(to?: string): SentSms[] {
    return this.sent.filter((s) => to === undefined || s.to === to).reverse();
  }
}
