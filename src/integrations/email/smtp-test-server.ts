import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

export interface ReceivedEmail {
  /** Envelope recipients (RCPT TO). */
  rcptTo: string[];
  /** Header names lower-cased, values unfolded and with RFC 2047 encoded words decoded. */
  headers: Map<string, string>;
  subject: string;
  messageId: string;
  text: string | undefined;
  html: string | undefined;
  raw: string;
}

export interface SmtpTestServerOptions {
  /** An SMTP reply code to refuse a recipient with (e.g. 550 unknown mailbox, 451 greylisted), or undefined. */
  refuseRecipient?: (address: string) => number | undefined;
}

export interface SmtpTestServer {
  url: string;
  /** Oldest first. */
  messages(): ReceivedEmail[];
  stop(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 that keeps what it receives, for the contract tests of `SmtpEmailSender`. Plain
 * text only (no STARTTLS), any or no credentials. Its MIME parsing covers what nodemailer writes, nothing more.
 */
export async function startSmtpTestServer(opts: SmtpTestServerOptions = {}): Promise<SmtpTestServer> {
  const received: ReceivedEmail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 100,
    // A reverse DNS lookup per connection tells a test nothing and may wait on a slow resolver.
    disableReverseLookup: true,
    onAuth: (_auth, _session, callback) => callback(null, { user: 'test' }),
    onRcptTo(address, _session, callback) {
      const code = opts.refuseRecipient?.(address.address);
      if (code === undefined) return callback();
      const err: SMTPServerError = new Error(code >= 500 ? 'Mailbox unavailable' : 'Try again later');
      err.responseCode = code;
      callback(err);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        received.push({ rcptTo: session.envelope.rcptTo.map((a) => a.address), ...parseMessage(raw), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages: () => [...received],
    stop: () => {
      stopped ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return stopped;
    },
  };
}

function parseMessage(raw: string): Omit<ReceivedEmail, 'rcptTo' | 'raw'> {
  const part = parsePart(raw);
  const bodies: { text?: string; html?: string } = {};
  collectBodies(part, bodies);
  return {
    headers: part.headers,
    subject: part.headers.get('subject') ?? '',
    messageId: part.headers.get('message-id') ?? '',
    text: bodies.text,
    html: bodies.html,
  };
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

function parsePart(raw: string): Part {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function collectBodies(part: Part, out: { text?: string; html?: string }): void {
  const type = part.headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const pieces = part.body.split(`--${boundary}`).slice(1);
    for (const piece of pieces) {
      if (piece.startsWith('--')) break;
      collectBodies(parsePart(piece.replace(/^\r\n/, '')), out);
    }
    return;
  }
  const decoded = decodeBody(part.body, part.headers.get('content-transfer-encoding') ?? '7bit');
  if (/^text\/html/i.test(type)) out.html ??= decoded;
  else if (/^text\/plain/i.test(type)) out.text ??= decoded;
}

function decodeBody(body: string, encoding: string): string {
  const trimmed = body.replace(/\r\n$/, '');
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(trimmed.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return qpBytes(trimmed.replace(/=\r\n/g, '')).toString('utf8');
    default:
      return trimmed;
  }
}

function qpBytes(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s[i] === '=' ? s.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(s[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words; adjacent ones are joined as bytes, since a character may be split across two. */
function decodeWords(value: string): string {
  const word = /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g;
  return value
    .replace(/(\?=)\s+(?==\?)/g, '$1')
    .replace(/(?:=\?[^?]+\?[BbQq]\?[^?]*\?=)+/g, (run) =>
      Buffer.concat(
        Array.from(run.matchAll(word), ([, , enc, text]) =>
          enc!.toUpperCase() === 'B' ? Buffer.from(text!, 'base64') : qpBytes(text!.replace(/_/g, ' ')),
        ),
      ).toString('utf8'),
    );
}
