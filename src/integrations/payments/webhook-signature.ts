import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (standardwebhooks.com) signatures: `webhook-signature: v1,<base64 HMAC-SHA256(key,
 * "<webhook-id>.<webhook-timestamp>.<raw body>")>`, where the key is the base64 after `whsec_` (or, for a secret
 * without that prefix, its UTF-8 bytes). The id and timestamp are inside the MAC, so a captured delivery cannot be
 * replayed under a fresh timestamp; the header may list several signatures (space-separated) during a rotation.
 */
export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

function keyOf(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

export function signPayoutWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  rawBody: string | Buffer,
): string {
  const mac = createHmac('sha256', keyOf(secret));
  mac.update(`${id}.${timestampSeconds}.`);
  mac.update(rawBody);
  return `v1,${mac.digest('base64')}`;
}

type HeaderValue = string | string[] | undefined;

function single(h: HeaderValue): string | undefined {
  const v = Array.isArray(h) ? (h.length === 1 ? h[0] : undefined) : h;
  return v?.trim() || undefined;
}

export type PayoutWebhookVerification =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'stale' | 'bad_signature' };

/** Checks a delivery against its raw body bytes; `secrets` lists every secret accepted now. */
export function verifyPayoutWebhook(opts: {
  secrets: readonly string[];
  headers: Record<string, HeaderValue>;
  rawBody: string | Buffer;
  nowSeconds: number;
  toleranceSeconds?: number;
}): PayoutWebhookVerification {
  const id = single(opts.headers[WEBHOOK_ID_HEADER]);
  const ts = single(opts.headers[WEBHOOK_TIMESTAMP_HEADER]);
  const sigs = single(opts.headers[WEBHOOK_SIGNATURE_HEADER]);
  if (!id || !ts || !sigs || !/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'missing' };
  const timestamp = Number(ts);
  if (Math.abs(opts.nowSeconds - timestamp) > (opts.toleranceSeconds ?? 300))
    return { ok: false, reason: 'stale' };
  const given = sigs.split(' ').map((s) => Buffer.from(s));
  for (const secret of opts.secrets) {
    const expected = Buffer.from(signPayoutWebhook(secret, id, timestamp, opts.rawBody));
    // timingSafeEqual throws on unequal lengths; a signature's length is public anyway.
    if (given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) return { ok: true };
  }
  return { ok: false, reason: 'bad_signature' };
}
