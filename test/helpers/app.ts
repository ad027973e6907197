import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generate as generateTotp } from 'otplib';
import { afterAll } from 'vitest';
import { closeDeps, createDeps, type Deps, govWebhookSecretsFor } from '../../src/app/deps.js';
import { buildApp } from '../../src/app/http.js';
import { startWorkers, type Workers } from '../../src/app/worker.js';
import { createStaff } from '../../src/auth/staff.js';
import type { StaffRole } from '../../src/auth/tokens.js';
import {
  type GovRegistrySimulator,
  type SimulatorOptions,
  startGovRegistrySimulator,
} from '../../src/integrations/gov-registry/simulator.js';
import { type Config, loadConfig } from '../../src/platform/config/config.js';
import type { App } from '../../src/platform/http/types.js';
import { createLogger } from '../../src/platform/logger.js';
import { PIPELINE_WAITING } from '../../src/reports/status.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { TEST_SERVER_ENV } from './env.js';

export interface TestApp {
  app: App;
  deps: Deps;
  db: TestDatabase;
  workers: Workers | null;
  /** The fines-registry simulator (with `gov`), calling back the app over a real socket at `url`. */
  gov: GovRegistrySimulator | null;
  url: string | null;
}

/**
 * The real HTTP app on a fresh database of its own, with a temporary blob directory. Workers are off unless
 * asked for: most tests drive the pipeline explicitly so they can look at each step.
 */
export async function createTestApp(
  env: Record<string, string> = {},
  opts: {
    /** true: the automated stages; a string: exactly these pools (JARIMA_WORKERS). */
    workers?: boolean | string;
    /** Start a fines-registry simulator with these options and listen on a real port for its callbacks. */
    gov?: Partial<SimulatorOptions>;
    /** Drive the overload shedding with this reading instead of the real event-loop delay. */
    load?: () => { eventLoopDelay: number; eventLoopUtilized: number };
  } = {},
): Promise<TestApp> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'jarima-test-data-'));
  const config: Config = loadConfig({
    JARIMA_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    JARIMA_WORKERS:
      typeof opts.workers === 'string'
        ? opts.workers
        : opts.workers
          ? 'validate:1,dedupe:1,enrich:1,analyze:2'
          : 'none',
    // Tests sign many citizens in from one address; the limits have tests of their own.
    RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    RATE_LIMIT_SUBMIT_PER_MINUTE: '100000',
    // The shedding test drives its own load reading, so it keeps the shedding thresholds.
    ...(opts.load ? { AUTOSCALE: 'false' } : TEST_SERVER_ENV),
    ...env,
  });
  const secret = randomBytes(32).toString('hex');
  let url: string | null = null;
  const apiKey = randomBytes(8).toString('hex');
  const gov = opts.gov
    ? await startGovRegistrySimulator({
        apiKey,
        webhookUrl: () => `${url}/v1/integrations/gov/events`,
        webhookSecret: govWebhookSecretsFor(config, secret)[0],
        webhookRetry: { initialDelayMs: 50, maxAttempts: 20, timeoutMs: 5000 },
        ...opts.gov,
      })
    : null;
  const deps = await createDeps(config, {
    databaseUrl: db.url,
    secret,
    logger: createLogger('silent', false),
    ...(gov ? { govSimulator: { url: gov.url, apiKey } } : {}),
  });
  const workers = opts.workers ? await startWorkers(deps) : null;
  const app = await buildApp(deps, {
    workersRunning: workers ? () => workers.running() : null,
    ...(opts.load ? { load: opts.load } : {}),
  });
  if (gov) url = await app.listen({ host: '127.0.0.1', port: 0 });
  else await app.ready();
  afterAll(async () => {
    await gov?.stop();
    await app.close();
    await workers?.stop();
    await closeDeps(deps);
    await rm(dataDir, { recursive: true, force: true });
  });
  return { app, deps, db, workers, gov, url };
}

let phoneCounter = 0;
/** A fresh Uzbek number per call, unique within the file. */
export function newPhone(): string {
  phoneCounter++;
  return `+99890${String(process.pid % 1000).padStart(3, '0')}${String(phoneCounter).padStart(4, '0')}`;
}

/** Signs a citizen in the way a phone would: request a code, read it from the simulator's outbox, verify. */
export async function signInCitizen(
  t: TestApp,
  phone = newPhone(),
): Promise<{ token: string; id: string; phone: string }> {
  const sent = await t.app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { phone } });
  if (sent.statusCode !== 202) throw new Error(`otp: ${sent.statusCode} ${sent.body}`);
  const code = latestCode(t, phone);
  const res = await t.app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { phone, code } });
  if (res.statusCode !== 200) throw new Error(`verify: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return { token: body.token, id: body.subjectId, phone };
}

export function latestCode(t: TestApp, phone: string): string {
  const text = t.deps.smsSimulator!.outbox(phone)[0]?.text ?? '';
  const code = /\b(\d{6})\b/.exec(text)?.[1];
  if (!code) throw new Error(`no code in outbox for ${phone}`);
  return code;
}

/**
 * A new staff member of `role` signed in the way a person would: login and password, and where the role requires
 * two-factor sign-in, setting it up with a code computed here from the secret the server returned.
 */
export async function signInStaff(
  t: TestApp,
  role: StaffRole,
): Promise<{ token: string; id: string; login: string; password: string; totpSecret: string | null }> {
  const login = `${role}-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await createStaff(t.deps.pool, { login, role, displayName: role, password });
  const post = async (url: string, payload: object) => {
    const res = await t.app.inject({ method: 'POST', url, payload });
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const first = await post('/v1/auth/login', { login, password });
  if (first.status === 'signed_in')
    return { token: first.token, id: first.subjectId, login, password, totpSecret: null };
  if (first.status !== 'totp_enrolment_required') throw new Error(`login: ${JSON.stringify(first)}`);
  const { secret } = await post('/v1/auth/totp/enrol', { challenge: first.challenge });
  const code = await generateTotp({ secret });
  const { session } = await post('/v1/auth/totp/confirm', { challenge: first.challenge, code });
  return { token: session.token, id: session.subjectId, login, password, totpSecret: secret };
}

export async function staffToken(t: TestApp, role: StaffRole): Promise<string> {
  return (await signInStaff(t, role)).token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A multipart/form-data body with one file part, as a browser would send it. */
export function multipart(
  content: Buffer,
  filename = 'evidence.jpg',
  field = 'file',
  mime = 'application/octet-stream',
) {
  const boundary = `----jarima${randomBytes(8).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${mime}\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export async function uploadEvidence(t: TestApp, token: string, content: Buffer, filename?: string) {
  const mp = multipart(content, filename);
  return t.app.inject({
    method: 'POST',
    url: '/v1/evidence',
    payload: mp.payload,
    headers: { ...mp.headers, ...bearer(token) },
  });
}

/**
 * A report body that passes every check: parking violation in central Tashkent an hour ago, by a car with a plate
 * of its own (so two bodies are never duplicates of each other unless a test makes them so).
 */
export function reportBody(evidenceIds: string[], overrides: Record<string, unknown> = {}) {
  return {
    violationCode: '128-6.1',
    plate: `01 A ${String(Math.floor(Math.random() * 1000)).padStart(3, '0')} ${randomPlateLetters()}`,
    lat: 41.3111,
    lon: 69.2797,
    incidentAt: new Date(Date.now() - 3600_000).toISOString(),
    description: 'Parked on the pedestrian crossing',
    evidenceIds,
    ...overrides,
  };
}

/** Signs a citizen in and uploads one fresh photo. */
export async function citizenWithEvidence(
  t: TestApp,
): Promise<{ token: string; id: string; evidenceId: string }> {
  const { makeJpeg } = await import('./media.js');
  const c = await signInCitizen(t);
  const up = await uploadEvidence(t, c.token, await makeJpeg(640, 480));
  return { ...c, evidenceId: up.json().id };
}

export async function submitReport(
  t: TestApp,
  token: string,
  body: object,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/reports',
    payload: body,
    headers: { ...bearer(token), ...headers },
  });
}

function randomPlateLetters(): string {
  const letters = 'ABCDEFGHIJKLMNOPRSTUVXYZ';
  return Array.from({ length: 2 }, () => letters[Math.floor(Math.random() * letters.length)]).join('');
}

/** Polls a report until it leaves the automated stages (workers pick jobs up by LISTEN/NOTIFY within milliseconds). */
// biome-ignore lint/suspicious/noExplicitAny: tests read the report's JSON freely
export async function settledReport(t: TestApp, id: string, token: string): Promise<any> {
  for (let i = 0; i < 400; i++) {
    const res = await t.app.inject({ method: 'GET', url: `/v1/reports/${id}`, headers: bearer(token) });
    if (!PIPELINE_WAITING.includes(res.json().status)) return res.json();
    await new Promise((r) => setTimeout(r, 25));
  }
  const { rows } = await t.deps.pool.query('select status from reports where id = $1', [id]);
  throw new Error(`report ${id} still in the pipeline: ${rows[0]?.status}`);
}

/** A staff member of `role` signed in: their token and id. */
export async function staffMember(t: TestApp, role: StaffRole): Promise<{ token: string; id: string }> {
  const { token, id } = await signInStaff(t, role);
  return { token, id };
}

/**
 * A citizen files a report with a fresh 1280×720 photo and the pipeline takes it to `awaiting_review`
 * (needs a test app started with workers).
 */
export async function reviewableReport(
  t: TestApp,
  overrides: Record<string, unknown> = {},
): Promise<{
  id: string;
  citizen: { token: string; id: string; phone: string };
  evidenceId: string;
  photo: Buffer;
}> {
  const { makeScene } = await import('./media.js');
  const citizen = await signInCitizen(t);
  const photo = await makeScene(1280, 720);
  const evidenceId = (await uploadEvidence(t, citizen.token, photo)).json().id;
  const res = await submitReport(t, citizen.token, reportBody([evidenceId], overrides));
  if (res.statusCode !== 202) throw new Error(`submit failed: ${res.statusCode} ${res.body}`);
  const report = await settledReport(t, res.json().id, citizen.token);
  if (report.status !== 'awaiting_review')
    throw new Error(`report ended ${report.status}, not awaiting_review`);
  return { id: report.id, citizen, evidenceId, photo };
}

/** Polls `fn` every 50 ms until it returns something truthy, and returns that; fails after `ms`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
