/**
 * Server-Sent Events over fetch(): GET /v1/me/events authenticates by the Authorization header only, which
 * EventSource cannot send. Parses `text/event-stream` as the HTML standard describes, reconnects after a drop
 * (the server's `retry:` delay, growing while the server stays away) and resumes with Last-Event-ID, so events
 * committed while disconnected are replayed by the server.
 */

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/** Incremental parser: feed it decoded chunks, it returns the complete messages. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | null = null;
  /** The last id the stream set (kept across messages, as the standard says). */
  lastEventId: string | null = null;
  /** Reconnection delay the server asked for, ms. */
  retry: number | null = null;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const nl = this.buffer.search(/\r\n|\r|\n/);
      if (nl < 0) break;
      // A lone \r at the end of a chunk may be the first half of \r\n: wait for the next chunk.
      if (this.buffer[nl] === '\r' && nl === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith('\r\n', nl) ? 2 : 1));
      const msg = this.line(line);
      if (msg) out.push(msg);
    }
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === '') {
      if (this.id !== null) this.lastEventId = this.id;
      const msg =
        this.data.length > 0
          ? { id: this.lastEventId, event: this.event || 'message', data: this.data.join('\n') }
          : null;
      this.data = [];
      this.event = '';
      this.id = null;
      return msg;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

export type StreamState = 'connecting' | 'open' | 'closed';

export interface StreamOptions {
  url: string;
  headers: () => Record<string, string>;
  lastEventId?: string | null;
  onMessage(msg: SseMessage): void;
  onState?(state: StreamState): void;
  /**
   * A 4xx answer (the token was refused), with the error's code: the stream stops for good, unless this returns
   * true (the token was refreshed), when it connects again at once with the headers read anew.
   */
  onRefused?(status: number, code: string): unknown;
  /** Before each connection (e.g. to refresh a token about to expire). */
  beforeConnect?(): Promise<void>;
  signal: AbortSignal;
}

const MAX_DELAY_MS = 30_000;

/** Keeps one event stream open until the signal aborts. */
export async function runEventStream(opts: StreamOptions): Promise<void> {
  let lastEventId = opts.lastEventId ?? null;
  let delay = 2000;
  let failures = 0;
  while (!opts.signal.aborted) {
    opts.onState?.('connecting');
    try {
      await opts.beforeConnect?.();
      const res = await fetch(opts.url, {
        headers: {
          accept: 'text/event-stream',
          ...opts.headers(),
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
        cache: 'no-store',
        signal: opts.signal,
      });
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        let code = '';
        try {
          code = ((await res.json()) as { code?: string }).code ?? '';
        } catch {
          // Not JSON.
        }
        if ((await opts.onRefused?.(res.status, code)) === true) continue;
        opts.onState?.('closed');
        return;
      }
      if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
      opts.onState?.('open');
      failures = 0;
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const msg of parser.push(value)) {
          if (msg.id) lastEventId = msg.id;
          opts.onMessage(msg);
        }
        if (parser.retry !== null) delay = parser.retry;
      }
    } catch {
      // A dropped connection or a server away: retried below.
      if (opts.signal.aborted) break;
      failures++;
    }
    if (opts.signal.aborted) break;
    opts.onState?.('closed');
    // The server's delay, then longer while it stays away, with jitter so a restart is not stormed.
    const wait = Math.min(MAX_DELAY_MS, delay * 2 ** Math.min(failures, 4)) * (0.8 + Math.random() * 0.4);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait);
      opts.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  opts.onState?.('closed');
}
