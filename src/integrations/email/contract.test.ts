import { afterEach, describe, expect, it } from 'vitest';
import { EmailOutbox } from './outbox.js';
import { EmailRejectedError, EmailRetryableError, type EmailSender, messageIdFor } from './port.js';
import { SmtpEmailSender } from './smtp-adapter.js';
import { type SmtpTestServer, startSmtpTestServer } from './smtp-test-server.js';

interface Harness {
  sender: EmailSender;
  /** What reached the other side, oldest first. */
  received(): {
    to: string;
    subject: string;
    text: string | undefined;
    html: string | undefined;
    messageId: string;
  }[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

const MAIL = {
  to: 'citizen@example.uz',
  subject: 'Xabar 7F3K2Q9A: qabul qilindi / Сообщение принято',
  text: 'Xabaringiz qabul qilindi.\nВаше сообщение 7F3K2Q9A (01A123BC) принято: 1 236 000 сум — «штраф».',
  html: '<p>Xabaringiz qabul qilindi.</p><p>Сообщение &lt;7F3K2Q9A&gt;</p>',
};

/** What every EmailSender must do, whatever is behind it. */
function emailSenderContract(name: string, factory: () => Promise<Harness>): void {
  describe(`EmailSender contract: ${name}`, () => {
    it('delivers subject, text and html to the recipient, non-ASCII intact', async () => {
      const h = await factory();
      const { messageId } = await h.sender.send(MAIL);
      expect(h.received()).toEqual([{ ...MAIL, messageId }]);
    });

    it('marks a send with an idempotency key so a retry carries the same Message-ID', async () => {
      const h = await factory();
      const key = 'report-42-accepted-email';
      const first = await h.sender.send({ ...MAIL, idempotencyKey: key });
      const retry = await h.sender.send({ ...MAIL, idempotencyKey: key });
      expect(first.messageId).toBe(`<${key}@jarima>`);
      expect(retry.messageId).toBe(first.messageId);
      expect(h.received().map((m) => m.messageId)).toEqual([`<${key}@jarima>`, `<${key}@jarima>`]);
    });

    it('gives sends without a key distinct Message-IDs', async () => {
      const h = await factory();
      const a = await h.sender.send({ ...MAIL, html: undefined });
      const b = await h.sender.send({ ...MAIL, html: undefined });
      expect(a.messageId).not.toBe(b.messageId);
      expect(h.received().map((m) => [m.messageId, m.html])).toEqual([
        [a.messageId, undefined],
        [b.messageId, undefined],
      ]);
    });
  });
}

emailSenderContract('EmailOutbox (in-process)', async () => {
  const outbox = new EmailOutbox();
  return {
    sender: outbox,
    received: () =>
      outbox
        .outbox()
        .reverse()
        .map(({ to, subject, text, html, messageId }) => ({ to, subject, text, html, messageId })),
  };
});

async function startSmtp(): Promise<{ server: SmtpTestServer; sender: SmtpEmailSender }> {
  const server = await startSmtpTestServer({
    refuseRecipient: (a) => (a.startsWith('blocked@') ? 550 : a.startsWith('greylisted@') ? 451 : undefined),
  });
  const sender = new SmtpEmailSender({
    url: server.url.replace('smtp://', 'smtp://jarima:secret@'),
    from: 'Jarima <no-reply@jarima.uz>',
    timeoutMs: 2000,
  });
  cleanups.push(async () => {
    sender.close();
    await server.stop();
  });
  return { server, sender };
}

emailSenderContract('SmtpEmailSender → real SMTP server', async () => {
  const { server, sender } = await startSmtp();
  return {
    sender,
    received: () =>
      server.messages().map((m) => {
        expect(m.rcptTo).toEqual([m.headers.get('to')]);
        return {
          to: m.headers.get('to') ?? '',
          subject: m.subject,
          text: m.text,
          html: m.html,
          messageId: m.messageId,
        };
      }),
  };
});

describe('SmtpEmailSender failures', () => {
  it('a recipient the server refuses with 550 is rejected, without the address in the message', async () => {
    const { server, sender } = await startSmtp();
    const err = await sender.send({ ...MAIL, to: 'blocked@example.uz' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmailRejectedError);
    expect(err).toMatchObject({ responseCode: 550, code: 'EENVELOPE', retryable: false });
    expect((err as Error).message).not.toContain('blocked@');
    expect(server.messages()).toHaveLength(0);
  });

  it('a 4xx refusal (greylisting) is retryable', async () => {
    const { sender } = await startSmtp();
    await expect(sender.send({ ...MAIL, to: 'greylisted@example.uz' })).rejects.toMatchObject({
      name: 'EmailRetryableError',
      responseCode: 451,
    });
  });

  it('a server that is down is retryable', async () => {
    const { server, sender } = await startSmtp();
    await server.stop();
    const err = await sender.send(MAIL).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmailRetryableError);
  });
});

describe('messageIdFor', () => {
  it('keeps plain keys readable and escapes the rest injectively', () => {
    expect(messageIdFor('report-42_email')).toBe('<report-42_email@jarima>');
    expect(messageIdFor('r:1.x')).toBe('<r%3A1%2Ex@jarima>');
    expect(messageIdFor('a b<c>@ж')).toBe('<a%20b%3Cc%3E%40%D0%B6@jarima>');
    expect(messageIdFor('%3A')).not.toBe(messageIdFor(':'));
  });
});
