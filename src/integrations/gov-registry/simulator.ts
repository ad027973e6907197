import '../../platform/formats.js';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import {
  type AppealDecisionReceipt,
  AppealDecisionSchema,
  type CaseStatus,
  type CaseSubmission,
  CaseSubmissionSchema,
  type RegistryEvent,
} from './port.js';
import { type WebhookCounters, type WebhookRetryOptions, WebhookSender } from './simulator-webhooks.js';

interface StoredCase {
  reportId: string;
  caseNumber: string;
  acceptedAt: string;
  status: CaseStatus;
  amountSum: number | null;
  /** Set when the fine is issued: region code, then the case's sequence and four random digits (e.g. 270000421234). */
  rulingNumber: string | null;
  /** Canonical JSON of the submission: a repeat with different content is a reused key, not a duplicate. */
  canonical: string;
}

/** The registry's database. Pass one store to several simulators to stand in for replicas behind a balancer. */
export interface SimulatorStore {
  readonly cases: Map<string, StoredCase>;
  /** Appeal decisions applied, by appeal id: canonical JSON of the request and the answer given. */
  readonly appealDecisions: Map<string, { canonical: string; receipt: AppealDecisionReceipt }>;
  nextSeq: number;
}

export function createSimulatorStore(): SimulatorStore {
  return { cases: new Map(), appealDecisions: new Map(), nextSeq: 1 };
}

export interface SimulatorOptions {
  port?: number;
  host?: string;
  apiKey: string;
  latencyMs?: number;
  latencyJitterMs?: number;
  /** Share of requests answered 503 before anything is done. */
  errorRate?: number;
  /** Share of case creations answered 503 *after* the case was stored, as when the response is lost on the way. */
  lostResponseRate?: number;
  /** Relative to start. */
  outages?: { fromMs: number; toMs: number }[];
  /** 'unavailable' answers 503; 'hang' never answers, so the client's timeout must fire. */
  outageMode?: 'unavailable' | 'hang';
  /** Where fines and payments are reported; a function is read at the first delivery. */
  webhookUrl?: string | (() => string);
  webhookSecret?: string;
  webhookRetry?: WebhookRetryOptions;
  /** After the case is created; null = never. */
  fineAfterMs?: number | null;
  /** After the case is created (not after the fine); null = never pays. */
  payAfterMs?: number | null;
  /** Default: the fine the submission proposed (`fineSum`), else 0. */
  fineAmountSum?: (c: CaseSubmission) => number;
  store?: SimulatorStore;
  /** For reproducible error injection in tests. */
  random?: () => number;
}

export interface SimulatorStats extends WebhookCounters {
  requests: number;
  casesCreated: number;
  duplicatesAnswered: number;
  errorsInjected: number;
}

export interface SimulatorControl {
  set(changes: {
    errorRate?: number;
    lostResponseRate?: number;
    latencyMs?: number;
    latencyJitterMs?: number;
  }): void;
  /** Unavailable from now for `ms`. */
  outage(ms: number): void;
  /** Unavailable until `up()`. */
  down(): void;
  /** Ends every outage now, scheduled ones included. */
  up(): void;
  stats(): SimulatorStats;
}

export interface GovRegistrySimulator {
  url: string;
  stop(): Promise<void>;
  control: SimulatorControl;
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

const MAX_BODY_BYTES = 1024 * 1024;
const CASE_PATH = /^\/v1\/cases\/([^/]+)$/;
const APPEAL_PATH = /^\/v1\/cases\/([^/]+)\/appeal-decisions$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const err = (status: number, code: string, message: string, field?: string): Reply => ({
  status,
  body: { code, message, ...(field ? { field } : {}) },
});

/**
 * A local stand-in for the government fines registry, served over real HTTP so the HTTP adapter is tested end to
 * end. It keeps cases in memory, issues the fine and the payment on timers, and reports both by signed webhook.
 * Chaos knobs (error rate, lost responses, latency, outages) exist for the adapter's resilience tests.
 */
export async function startGovRegistrySimulator(opts: SimulatorOptions): Promise<GovRegistrySimulator> {
  const random = opts.random ?? Math.random;
  const store = opts.store ?? createSimulatorStore();
  const knobs = {
    errorRate: opts.errorRate ?? 0,
    lostResponseRate: opts.lostResponseRate ?? 0,
    latencyMs: opts.latencyMs ?? 0,
    latencyJitterMs: opts.latencyJitterMs ?? 0,
  };
  const outages = (opts.outages ?? []).map((o) => ({ ...o }));
  let manualDown = false;
  const stats: SimulatorStats = {
    requests: 0,
    casesCreated: 0,
    duplicatesAnswered: 0,
    errorsInjected: 0,
    webhooksDelivered: 0,
    webhookFailures: 0,
    webhooksAbandoned: 0,
  };
  const fineAfterMs = opts.fineAfterMs === undefined ? 2000 : opts.fineAfterMs;
  const payAfterMs = opts.payAfterMs === undefined ? 4000 : opts.payAfterMs;
  const fineAmount = opts.fineAmountSum ?? ((c: CaseSubmission) => c.fineSum ?? 0);
  const stopping = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const startedAt = Date.now();
  const expectedAuth = Buffer.from(`Bearer ${opts.apiKey}`);

  if (opts.webhookUrl && !opts.webhookSecret) throw new Error('simulator: webhookUrl needs webhookSecret');
  const webhooks = opts.webhookUrl
    ? new WebhookSender(opts.webhookUrl, opts.webhookSecret ?? '', stats, {
        initialDelayMs: opts.webhookRetry?.initialDelayMs ?? 200,
        maxAttempts: opts.webhookRetry?.maxAttempts ?? 10,
        timeoutMs: opts.webhookRetry?.timeoutMs ?? 5000,
      })
    : null;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  /** Milliseconds until the current outage ends; Infinity while `down()`; undefined when up. */
  const outageLeft = (): number | undefined => {
    if (manualDown) return Number.POSITIVE_INFINITY;
    const t = Date.now() - startedAt;
    const active = outages.filter((o) => t >= o.fromMs && t < o.toMs);
    return active.length ? Math.max(...active.map((o) => o.toMs - t)) : undefined;
  };

  const emit = (c: StoredCase, type: RegistryEvent['type']) => {
    if (c.amountSum === null) return;
    webhooks?.send({
      id: randomUUID(),
      type,
      reportId: c.reportId,
      caseNumber: c.caseNumber,
      amountSum: c.amountSum,
      occurredAt: new Date().toISOString(),
      ...(type === 'fine.issued' && c.rulingNumber ? { rulingNumber: c.rulingNumber } : {}),
    });
  };

  const schedule = (c: StoredCase, submission: CaseSubmission) => {
    if (fineAfterMs === null) return;
    later(fineAfterMs, () => {
      c.status = 'fined';
      c.amountSum = Math.max(0, Math.round(fineAmount(submission)));
      c.rulingNumber = rulingNumberFor(c, submission, random);
      emit(c, 'fine.issued');
      if (payAfterMs === null) return;
      later(Math.max(0, payAfterMs - fineAfterMs), () => {
        // A fine cancelled on appeal is not paid.
        if (c.status === 'cancelled') return;
        c.status = 'paid';
        emit(c, 'fine.paid');
      });
    });
  };

  const createCase = (headers: http.IncomingHttpHeaders, raw: string): Reply => {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return err(400, 'MALFORMED_BODY', 'The body is not JSON.');
    }
    if (!Value.Check(CaseSubmissionSchema, body)) {
      const first = [...Value.Errors(CaseSubmissionSchema, body)][0];
      return err(400, 'VALIDATION_FAILED', first?.message ?? 'invalid', first?.path || '/');
    }
    const key = headers['idempotency-key'];
    if (!key) return err(400, 'IDEMPOTENCY_KEY_REQUIRED', 'Send Idempotency-Key: <reportId>.');
    if (key !== body.reportId) {
      return err(400, 'IDEMPOTENCY_KEY_MISMATCH', 'Idempotency-Key must equal reportId.', 'reportId');
    }
    const canonical = canonicalJson(body);
    const known = store.cases.get(body.reportId);
    if (known) {
      if (known.canonical !== canonical) {
        return err(422, 'IDEMPOTENCY_KEY_REUSED', 'This report id was submitted with different content.');
      }
      stats.duplicatesAnswered++;
      return { status: 200, body: view(known, true) };
    }
    const acceptedAt = new Date();
    const seq = store.nextSeq++;
    const c: StoredCase = {
      reportId: body.reportId,
      caseNumber: `UZ-${acceptedAt.getUTCFullYear()}-${String(seq).padStart(6, '0')}`,
      acceptedAt: acceptedAt.toISOString(),
      status: 'accepted',
      amountSum: null,
      rulingNumber: null,
      canonical,
    };
    store.cases.set(c.reportId, c);
    stats.casesCreated++;
    schedule(c, body);
    if (random() < knobs.lostResponseRate) {
      stats.errorsInjected++;
      return err(503, 'UNAVAILABLE', 'Injected failure after the case was stored.');
    }
    return { status: 201, body: view(c, false) };
  };

  /** A decision on an appeal, applied once per appeal id; a cancelled fine's case becomes `cancelled`. */
  const decideAppeal = (reportId: string, headers: http.IncomingHttpHeaders, raw: string): Reply => {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return err(400, 'MALFORMED_BODY', 'The body is not JSON.');
    }
    if (!Value.Check(AppealDecisionSchema, body)) {
      const first = [...Value.Errors(AppealDecisionSchema, body)][0];
      return err(400, 'VALIDATION_FAILED', first?.message ?? 'invalid', first?.path || '/');
    }
    if (body.reportId !== reportId)
      return err(400, 'VALIDATION_FAILED', 'reportId differs from the path.', 'reportId');
    if (headers['idempotency-key'] !== body.appealId)
      return err(400, 'IDEMPOTENCY_KEY_MISMATCH', 'Idempotency-Key must equal appealId.', 'appealId');
    if ((body.decision === 'correct') !== (body.violationCode !== undefined))
      return err(
        400,
        'VALIDATION_FAILED',
        'violationCode goes with correct, and only with it.',
        'violationCode',
      );
    const canonical = canonicalJson(body);
    const known = store.appealDecisions.get(body.appealId);
    if (known) {
      if (known.canonical !== canonical)
        return err(422, 'IDEMPOTENCY_KEY_REUSED', 'This appeal id was sent with a different decision.');
      return { status: 200, body: { ...known.receipt, duplicate: true } };
    }
    const c = store.cases.get(reportId);
    if (!c) return err(404, 'CASE_NOT_FOUND', 'No case for this report id.');
    if (c.caseNumber !== body.caseNumber)
      return err(422, 'CASE_NUMBER_MISMATCH', "The case number is not this case's.", 'caseNumber');
    if (c.status !== 'fined' && c.status !== 'paid')
      return err(422, 'NO_RULING', 'The case has no ruling to decide an appeal on.');
    if (body.decision === 'cancel') c.status = 'cancelled';
    const receipt: AppealDecisionReceipt = {
      appealId: body.appealId,
      caseStatus: c.status,
      duplicate: false,
    };
    store.appealDecisions.set(body.appealId, { canonical, receipt });
    return { status: 201, body: receipt };
  };

  const route = (req: http.IncomingMessage, path: string, raw: string): Reply => {
    const appeal = APPEAL_PATH.exec(path);
    if (appeal) {
      if (req.method !== 'POST') return err(405, 'METHOD_NOT_ALLOWED', 'Use POST.');
      const reportId = decodeURIComponent(appeal[1] ?? '');
      if (!UUID.test(reportId)) return err(400, 'VALIDATION_FAILED', 'reportId must be a UUID.', 'reportId');
      return decideAppeal(reportId, req.headers, raw);
    }
    if (path === '/v1/cases') {
      return req.method === 'POST'
        ? createCase(req.headers, raw)
        : err(405, 'METHOD_NOT_ALLOWED', 'Use POST.');
    }
    const m = CASE_PATH.exec(path);
    if (m) {
      if (req.method !== 'GET') return err(405, 'METHOD_NOT_ALLOWED', 'Use GET.');
      const reportId = decodeURIComponent(m[1] ?? '');
      if (!UUID.test(reportId)) return err(400, 'VALIDATION_FAILED', 'reportId must be a UUID.', 'reportId');
      const c = store.cases.get(reportId);
      return c ? { status: 200, body: view(c) } : err(404, 'CASE_NOT_FOUND', 'No case for this report id.');
    }
    return err(404, 'ROUTE_NOT_FOUND', 'No such endpoint.');
  };

  const handle = async (req: http.IncomingMessage): Promise<Reply | 'hang'> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/health') return { status: 200, body: { ok: true } };
    stats.requests++;
    const raw = await readBody(req);
    if (raw === null) return err(413, 'BODY_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES} bytes.`);
    const delay = knobs.latencyMs + random() * knobs.latencyJitterMs;
    if (delay > 0) await sleep(delay, undefined, { signal: stopping.signal });
    const left = outageLeft();
    if (left !== undefined) {
      stats.errorsInjected++;
      if (opts.outageMode === 'hang') return 'hang';
      const headers: Record<string, string> = Number.isFinite(left)
        ? { 'retry-after': String(Math.ceil(left / 1000)) }
        : {};
      return { ...err(503, 'UNAVAILABLE', 'The registry is down for maintenance.'), headers };
    }
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== expectedAuth.length || !timingSafeEqual(auth, expectedAuth)) {
      return err(401, 'UNAUTHENTICATED', 'Send Authorization: Bearer <api key>.');
    }
    if (random() < knobs.errorRate) {
      stats.errorsInjected++;
      return err(503, 'UNAVAILABLE', 'Injected failure.');
    }
    return route(req, path, raw);
  };

  const server = http.createServer((req, res) => {
    handle(req).then(
      (reply) => {
        if (reply === 'hang' || res.destroyed) return;
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(JSON.stringify(reply.body ?? {}));
      },
      () => {
        // Aborted by stop(), or a bug: either way the client sees the connection drop.
        res.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;

  const control: SimulatorControl = {
    set(changes) {
      for (const [k, v] of Object.entries(changes)) if (v !== undefined) knobs[k as keyof typeof knobs] = v;
    },
    outage(ms) {
      const t = Date.now() - startedAt;
      outages.push({ fromMs: t, toMs: t + ms });
    },
    down() {
      manualDown = true;
    },
    up() {
      manualDown = false;
      const t = Date.now() - startedAt;
      for (const o of outages) o.toMs = Math.min(o.toMs, t);
    },
    stats: () => ({ ...stats }),
  };

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      stopping.abort();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await webhooks?.close();
    })();
    return stopped;
  };

  return { url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`, stop, control };
}

/** Unique per case (the sequence) and not guessable from a neighbour's (the random tail). */
function rulingNumberFor(c: StoredCase, s: CaseSubmission, random: () => number): string {
  const region = String((s.regionId ?? 0) % 100).padStart(2, '0');
  const seq = c.caseNumber.slice(-6);
  const tail = String(Math.floor(random() * 10_000)).padStart(4, '0');
  return `${region}${seq}${tail}`;
}

function view(c: StoredCase, duplicate?: boolean) {
  return {
    reportId: c.reportId,
    caseNumber: c.caseNumber,
    acceptedAt: c.acceptedAt,
    status: c.status,
    amountSum: c.amountSum,
    ...(duplicate === undefined ? {} : { duplicate }),
  };
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** null when the body is over the limit. */
async function readBody(req: http.IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const CLI_USAGE = `usage: jarima gov-registry-simulator --api-key K [--port N] [--host H] [--error-rate R]
  [--latency-ms N] [--webhook-url U --webhook-secret S] [--fine-after-ms N] [--pay-after-ms N|never]`;

/**
 * Runs the simulator in the foreground until SIGINT/SIGTERM (or `stopSignal`, for tests), for a developer's local
 * stack or a staging environment without the real registry.
 */
export async function runGovRegistrySimulatorCli(
  argv: string[],
  print: (line: string) => void,
  stopSignal?: AbortSignal,
): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'api-key': { type: 'string' },
      'error-rate': { type: 'string' },
      'latency-ms': { type: 'string' },
      'webhook-url': { type: 'string' },
      'webhook-secret': { type: 'string' },
      'fine-after-ms': { type: 'string' },
      'pay-after-ms': { type: 'string' },
    },
    strict: true,
  });
  const num = (name: keyof typeof values, min: number, max: number): number | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new Error(`--${name} must be a number from ${min} to ${max}\n${CLI_USAGE}`);
    }
    return n;
  };
  const apiKey = values['api-key'];
  if (!apiKey) throw new Error(`--api-key is required\n${CLI_USAGE}`);
  if (values['webhook-url'] && !values['webhook-secret']) {
    throw new Error(`--webhook-url needs --webhook-secret\n${CLI_USAGE}`);
  }
  const day = 24 * 3600 * 1000;
  const sim = await startGovRegistrySimulator({
    apiKey,
    port: num('port', 0, 65535),
    host: values.host,
    errorRate: num('error-rate', 0, 1),
    latencyMs: num('latency-ms', 0, 600_000),
    webhookUrl: values['webhook-url'],
    webhookSecret: values['webhook-secret'],
    fineAfterMs: num('fine-after-ms', 0, day),
    payAfterMs: values['pay-after-ms'] === 'never' ? null : num('pay-after-ms', 0, day),
  });
  print(`gov registry simulator listening on ${sim.url}`);
  print(
    values['webhook-url']
      ? `webhooks go to ${values['webhook-url']}`
      : 'no --webhook-url: fines are not reported',
  );

  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      stopSignal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (stopSignal?.aborted) done();
    else stopSignal?.addEventListener('abort', done, { once: true });
  });
  await sim.stop();
  print('gov registry simulator stopped');
}
