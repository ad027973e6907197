import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_TIMESTAMP_HEADER = 'x-jarima-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'x-jarima-signature';

/**
 * `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<rawBody>")>`. The timestamp is inside the MAC so a captured
 * delivery cannot be replayed later with a fresh timestamp header.
 */
export function signWebhook(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampSeconds}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

export type WebhookVerification = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'bad_signature' };

type HeaderValue = string | string[] | undefined;

/** Node gives repeated headers as an array; a sender repeating ours is not one we trust, so only one counts. */
function single(h: HeaderValue): string | undefined {
  const v = Array.isArray(h) ? (h.length === 1 ? h[0] : undefined) : h;
  return v?.trim() || undefined;
}

/**
 * Checks a delivery against the raw body bytes as received (re-serialised JSON would not match). `secret` may list
 * several secrets so a rotation can accept the old and the new one for a while.
 */
export function verifyWebhook(opts: {
  secret: string | readonly string[];
  timestampHeader: HeaderValue;
  signatureHeader: HeaderValue;
  rawBody: string | Buffer;
  nowSeconds: number;
  toleranceSeconds?: number;
}): WebhookVerification {
  const ts = single(opts.timestampHeader);
  const sig = single(opts.signatureHeader);
  if (!ts || !sig || !/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'missing' };
  const timestamp = Number(ts);
  if (Math.abs(opts.nowSeconds - timestamp) > (opts.toleranceSeconds ?? 300))
    return { ok: false, reason: 'stale' };
  const given = Buffer.from(sig);
  const secrets = typeof opts.secret === 'string' ? [opts.secret] : opts.secret;
  for (const secret of secrets) {
    const expected = Buffer.from(signWebhook(secret, timestamp, opts.rawBody));
    // timingSafeEqual throws on unequal lengths; the length of a well-formed signature is public anyway.
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'bad_signature' };
}
