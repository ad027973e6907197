import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../platform/formats.js';
import { HttpGovRegistry } from './http-adapter.js';
import { type RegistryEvent, RegistryEventSchema } from './port.js';
import { startGovRegistrySimulator } from './simulator.js';
import { sampleCase } from './testing.js';
import {
  signWebhook,
  verifyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from './webhook-signature.js';

const API_KEY = 'webhook-test-key';
const SECRET = 'webhook-test-secret';

interface Delivery {
  timestamp: string | undefined;
  signature: string | undefined;
  raw: string;
  status: number;
}

/** Answers 500 to the first delivery of each event id, 204 after: the sender must retry. */
async function flakyReceiver() {
  const deliveries: Delivery[] = [];
  const seen = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const id = (JSON.parse(raw) as RegistryEvent).id;
      const status = seen.has(id) ? 204 : 500;
      seen.add(id);
      deliveries.push({
        timestamp: req.headers[WEBHOOK_TIMESTAMP_HEADER] as string | undefined,
        signature: req.headers[WEBHOOK_SIGNATURE_HEADER] as string | undefined,
        raw,
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/gov-registry`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

describe('registry webhooks', () => {
  it('delivers signed fine.issued and fine.paid events at least once, retrying with the same event id', async () => {
    const receiver = await flakyReceiver();
    cleanups.push(receiver.close);
    const sim = await startGovRegistrySimulator({
      apiKey: API_KEY,
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
      webhookRetry: { initialDelayMs: 20 },
      fineAfterMs: 50,
      payAfterMs: 150,
    });
    cleanups.push(sim.stop);
    const registry = new HttpGovRegistry({ urls: [sim.url], apiKey: API_KEY });
    cleanups.push(() => registry.close());

    const c = sampleCase({ fineSum: 412_000 });
    const receipt = await registry.submitCase(c);
    await vi.waitFor(() => expect(sim.control.stats().webhooksDelivered).toBe(2), { timeout: 5000 });

    const now = Math.floor(Date.now() / 1000);
    for (const d of receiver.deliveries) {
      const v = verifyWebhook({
        secret: SECRET,
        timestampHeader: d.timestamp,
        signatureHeader: d.signature,
        rawBody: d.raw,
        nowSeconds: now,
      });
      expect(v).toEqual({ ok: true });
    }
    const byId = new Map<string, Delivery[]>();
    for (const d of receiver.deliveries) {
      const id = (JSON.parse(d.raw) as RegistryEvent).id;
      byId.set(id, [...(byId.get(id) ?? []), d]);
    }
    expect(byId.size).toBe(2);
    for (const attempts of byId.values()) {
      expect(attempts.map((a) => a.status)).toEqual([500, 204]);
      expect(new Set(attempts.map((a) => a.raw)).size).toBe(1);
    }
    const events = [...byId.values()].map((a) => JSON.parse(a[0]?.raw ?? '') as RegistryEvent);
    expect(events.map((e) => e.type).sort()).toEqual(['fine.issued', 'fine.paid']);
    for (const e of events) {
      expect(e).toMatchObject({ reportId: c.reportId, caseNumber: receipt.caseNumber, amountSum: 412_000 });
      expect(Value.Check(RegistryEventSchema, e)).toBe(true);
    }
    // The ruling number the driver quotes comes with the fine, and only with it.
    expect(events.find((e) => e.type === 'fine.issued')?.rulingNumber).toMatch(/^\d{12}$/);
    expect(events.find((e) => e.type === 'fine.paid')).not.toHaveProperty('rulingNumber');
    expect(sim.control.stats().webhookFailures).toBe(2);
    expect(await registry.getCase(c.reportId)).toEqual({
      caseNumber: receipt.caseNumber,
      status: 'paid',
      amountSum: 412_000,
    });
  });
});

describe('webhook signature', () => {
  const raw = JSON.stringify({ id: 'e1', type: 'fine.issued', amountSum: 412_000 });
  const ts = 1_800_000_000;
  const signed = { timestampHeader: String(ts), signatureHeader: signWebhook(SECRET, ts, raw), rawBody: raw };

  it('signs as sha256=<hex> over "<timestamp>.<body>"', () => {
    expect(signed.signatureHeader).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signWebhook(SECRET, ts + 1, raw)).not.toBe(signed.signatureHeader);
  });

  it('accepts a fresh, untouched delivery, also during a secret rotation', () => {
    expect(verifyWebhook({ secret: SECRET, ...signed, nowSeconds: ts + 10 })).toEqual({ ok: true });
    expect(verifyWebhook({ secret: ['new-secret', SECRET], ...signed, nowSeconds: ts })).toEqual({
      ok: true,
    });
  });

  it('refuses a tampered body or a wrong secret', () => {
    const tampered = raw.replace('412000', '1');
    expect(verifyWebhook({ secret: SECRET, ...signed, rawBody: tampered, nowSeconds: ts })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifyWebhook({ secret: 'other', ...signed, nowSeconds: ts })).toMatchObject({
      reason: 'bad_signature',
    });
    expect(
      verifyWebhook({ secret: SECRET, ...signed, signatureHeader: 'sha256=00', nowSeconds: ts }),
    ).toMatchObject({ reason: 'bad_signature' });
  });

  it('refuses a stale or future timestamp, and a timestamp moved to look fresh', () => {
    expect(verifyWebhook({ secret: SECRET, ...signed, nowSeconds: ts + 301 })).toMatchObject({
      reason: 'stale',
    });
    expect(verifyWebhook({ secret: SECRET, ...signed, nowSeconds: ts - 301 })).toMatchObject({
      reason: 'stale',
    });
    expect(
      verifyWebhook({ secret: SECRET, ...signed, timestampHeader: String(ts + 600), nowSeconds: ts + 600 }),
    ).toMatchObject({ reason: 'bad_signature' });
  });

  it('refuses missing or malformed headers', () => {
    for (const h of [
      { timestampHeader: undefined },
      { signatureHeader: undefined },
      { signatureHeader: '' },
      { timestampHeader: 'yesterday' },
      { timestampHeader: [String(ts), String(ts)] },
    ]) {
      expect(verifyWebhook({ secret: SECRET, ...signed, ...h, nowSeconds: ts })).toMatchObject({
        reason: 'missing',
      });
    }
  });
});
