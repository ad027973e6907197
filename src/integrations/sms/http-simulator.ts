import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Value } from '@sinclair/typebox/value';
import { parseJson } from '../../platform/http/json.js';
import { headerValue, readBody, replyJson, serveLocally } from '../../platform/http/raw.js';
import { E164_PATTERN, SendMessageRequestSchema } from './http-wire.js';

export interface SmsGatewaySimulatorOptions {
  /** 0 picks a free port. */
  port?: number;
  apiKey: string;
  /** Share of requests answered with `control.errorStatus` instead of being served. */
  errorRate?: number;
}

export interface GatewayMessage {
  messageId: string;
  to: string;
  text: string;
  idempotencyKey: string | null;
}

export interface SmsGatewaySimulator {
  url: string;
  stop(): Promise<void>;
  /** Stored messages, oldest first. */
  messages(): GatewayMessage[];
  /** Read on every request, so tests can change them while the server runs. */
  control: { errorRate: number; errorStatus: number; latencyMs: number };
}

const MAX_BODY_BYTES = 64 * 1024;
const E164 = new RegExp(E164_PATTERN);

/**
 * A real HTTP server speaking the SMS gateway's API (see http-wire.ts), for contract and chaos tests of
 * `HttpSmsGateway` and for running Jarima locally against the HTTP path. It keeps everything it accepts.
 */
export async function startSmsGatewaySimulator(
  opts: SmsGatewaySimulatorOptions,
): Promise<SmsGatewaySimulator> {
  const stored: GatewayMessage[] = [];
  const byKey = new Map<string, GatewayMessage>();
  const control = { errorRate: opts.errorRate ?? 0, errorStatus: 503, latencyMs: 0 };
  const expectedAuth = `Bearer ${opts.apiKey}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/messages') {
      return replyJson(res, 404, { code: 'NOT_FOUND', message: 'no such endpoint' });
    }
    if (control.latencyMs > 0) await sleep(control.latencyMs);
    if (Math.random() < control.errorRate) {
      res.setHeader('retry-after', '1');
      return replyJson(res, control.errorStatus, { code: 'UNAVAILABLE', message: 'injected failure' });
    }
    if (req.headers.authorization !== expectedAuth) {
      return replyJson(res, 401, { code: 'UNAUTHORIZED', message: 'missing or wrong API key' });
    }
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === null) return replyJson(res, 413, { code: 'BODY_TOO_LARGE', message: 'body too large' });
    const body = parseJson(raw);
    if (!Value.Check(SendMessageRequestSchema, body)) {
      return replyJson(res, 400, {
        code: 'INVALID_REQUEST',
        message: 'expected {"to": string, "text": string}',
      });
    }
    if (!E164.test(body.to)) {
      return replyJson(res, 400, { code: 'INVALID_NUMBER', message: 'to: expected an E.164 number' });
    }
    const key = headerValue(req.headers['idempotency-key']);
    const earlier = key === undefined ? undefined : byKey.get(key);
    if (earlier) return replyJson(res, 200, { messageId: earlier.messageId });
    const message = { messageId: randomUUID(), to: body.to, text: body.text, idempotencyKey: key ?? null };
    stored.push(message);
    if (key !== undefined) byKey.set(key, message);
    replyJson(res, 201, { messageId: message.messageId });
  }

  const { server, port } = await serveLocally(handle, opts.port);
  let stopped: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    control,
    messages: () => stored.map((m) => ({ ...m })),
    stop: () => {
      stopped ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections would hold close() open until their idle timeout.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
