import { randomUUID } from 'node:crypto';
import type { SmsGateway } from './port.js';

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
  constructor(
    private readonly onSend: (sms: SentSms) => void = () => {},
    private readonly capacity = 1000,
  ) {}

  async send(to: string, text: string): Promise<{ messageId: string }> {
    const sms = { messageId: randomUUID(), to, text, sentAt: new Date().toISOString() };
    this.sent.push(sms);
    if (this.sent.length > this.capacity) this.sent.shift();
    this.onSend(sms);
    return { messageId: sms.messageId };
  }

  outbox(to?: string): SentSms[] {
    return this.sent.filter((s) => to === undefined || s.to === to).reverse();
  }
}
