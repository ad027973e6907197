import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'otplib';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';
import { WEB_DIST } from '../../src/web/static.js';
import type { TestDatabase } from '../helpers/db.js';
import { type JarimaProcess, running, spawnJarima } from '../helpers/process.js';

/**
 * The one set-up of the browser tests (test/web/*.test.ts) and the web benchmark (bench/web.ts): Debian's
 * Chromium (or skip), an up-to-date web build, a `jarima start` that serves the app, pages that record what the
 * browser complains about, screenshots, and signing in.
 */

export const CHROMIUM = process.env.JARIMA_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];

/**
 * Whether the browser tests can run. Without Chromium they are skipped with a message saying how to install it,
 * except under CI (CI=true), where a missing browser is an error, never a silent skip.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const why = `the browser tests need Chromium at ${CHROMIUM} (apt-get install -y chromium, or set JARIMA_TEST_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
  console.warn(`SKIPPED: ${why}`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Screenshots of the pages the tests visit, to look at after a run. */
export const ARTIFACTS = path.resolve(import.meta.dirname, 'artifacts');

function newestMtime(p: string): number {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(p).map((f) => newestMtime(path.join(p, f))));
}

/**
 * Runs `npm run build` (type checks and the Vite build) unless web/dist is newer than every source of it, so the
 * test always drives the code in the working tree.
 */
export async function ensureWebBuild(): Promise<'built' | 'up to date'> {
  // Test files run in parallel processes: one builds while the others wait for it (mkdir is atomic).
  const lock = path.join(ROOT, 'web', '.build-lock');
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 300_000) throw new Error(`${lock} held for 5 minutes; remove it if no build is running`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await buildIfStale();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function buildIfStale(): Promise<'built' | 'up to date'> {
  const index = path.join(WEB_DIST, 'index.html');
  // The app also bundles the plate rules the server uses (src/reference/plates.ts) and their data file.
  const sources = [
    'web/src',
    'web/index.html',
    'web/public',
    'web/vite.config.ts',
    'src/reference/plates.ts',
    'data/uz-plate-formats.json',
  ];
  if (existsSync(index)) {
    const built = statSync(index).mtimeMs;
    if (sources.every((s) => newestMtime(path.join(ROOT, s)) <= built)) return 'up to date';
  }
  await new Promise<void>((resolve, reject) =>
    // NODE_ENV is 'test' inside vitest; a build made with it would ship React's development bundle.
    execFile(
      'npm',
      ['run', 'build'],
      { cwd: ROOT, timeout: 180_000, env: { ...process.env, NODE_ENV: 'production' } },
      (err, stdout, stderr) =>
        err ? reject(new Error(`npm run build failed:\n${stdout}\n${stderr}`)) : resolve(),
    ),
  );
  return 'built';
}

export interface StaffAccount {
  login: string;
  password: string;
  /** The account's authenticator secret once enrolled (`enrolStaff`): its codes are computed from it. */
  totpSecret?: string;
}

/** The last 30 s step each secret's code was made for: the server refuses a step it has seen (replay). */
const lastStep = new Map<string, number>();

/**
 * A TOTP code for `secret` whose time step was not used before: the current step, else the next one (the server
 * accepts one step either side), waiting for the clock when both are spent.
 */
export async function totpCode(secret: string): Promise<string> {
  const now = () => Math.floor(Date.now() / 30_000);
  const step = Math.max(now(), (lastStep.get(secret) ?? -1) + 1);
  while (step > now() + 1) await new Promise((r) => setTimeout(r, 500));
  lastStep.set(secret, step);
  return generate({ secret, epoch: step * 30 });
}

const post = async (url: string, path: string, body: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};

export interface StaffTokens {
  token: string;
  subjectId: string;
  expiresAt: string;
  refreshToken?: string;
  refreshExpiresAt?: string;
  sessionId?: string;
}

/**
 * Signs in through the API as a person with an authenticator app would: password, then enrolment (a role that
 * requires two-factor sign-in and has none: the secret is kept on `account`) or a code. Returns the tokens.
 */
export async function staffLogin(url: string, account: StaffAccount): Promise<StaffTokens> {
  const r = await post(url, '/v1/auth/login', { login: account.login, password: account.password });
  if (r.status === 'totp_enrolment_required') {
    const challenge = r.challenge as string;
    const enrol = await post(url, '/v1/auth/totp/enrol', { challenge });
    account.totpSecret = enrol.secret as string;
    const done = await post(url, '/v1/auth/totp/confirm', {
      challenge,
      code: await totpCode(account.totpSecret),
    });
    return done.session as StaffTokens;
  }
  if (r.status === 'totp_required') {
    if (!account.totpSecret) throw new Error(`${account.login} needs a TOTP code and no secret is known`);
    return (await post(url, '/v1/auth/login/totp', {
      challenge: r.challenge,
      code: await totpCode(account.totpSecret),
    })) as unknown as StaffTokens;
  }
  return r as unknown as StaffTokens;
}

/** The demo staff accounts `jarima seed --demo` created, from the file it writes into its data directory: role → account. */
export async function demoAccounts(dataDir: string): Promise<Map<string, StaffAccount>> {
  const accounts = new Map<string, StaffAccount>();
  for (const line of (await readFile(path.join(dataDir, 'demo-accounts.txt'), 'utf8')).trim().split('\n')) {
    const [role, login, password] = line.split('\t');
    accounts.set(role!, { login: login!, password: password! });
  }
  return accounts;
}

export interface WebStack {
  jarima: JarimaProcess;
  db: TestDatabase;
  /** Where the app and the API are served (one origin). */
  url: string;
  dataDir: string;
  /** The demo staff accounts: role → account. */
  accounts: Map<string, StaffAccount>;
  stop(): Promise<void>;
}

/** A pool of each pipeline stage: enough for a browser test's few reports, light on a 2-core machine. */
const PIPELINE_WORKERS = 'validate:1,dedupe:1,enrich:1,analyze:1,forward:1,notify:1,payout:1';

/**
 * A real `jarima start` (pipeline workers, SMS and registry simulators, the web app) on `database`, with the web
 * build brought up to date meanwhile. The database is created by the test file, which owns its clean-up.
 */
export async function startWebStack(o: {
  name: string;
  database: Promise<TestDatabase>;
  env?: Record<string, string>;
}): Promise<WebStack> {
  const [build, db] = await Promise.all([ensureWebBuild(), o.database]);
  console.log(`web build: ${build}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `jarima-web-${o.name}-`));
  await mkdir(ARTIFACTS, { recursive: true });
  // The demo staff accounts (and a demo unit covering every district) exist only after `seed --demo`.
  const seed = spawnJarima(['seed', '--demo'], { DATABASE_URL: db.url, JARIMA_DATA_DIR: dataDir, ...o.env });
  const seeded = await new Promise<number | null>((r) => seed.child.on('exit', r));
  if (seeded !== 0) throw new Error(`jarima seed --demo failed (${seeded}):\n${seed.output()}`);
  const jarima = spawnJarima(['start'], {
    DATABASE_URL: db.url,
    JARIMA_DATA_DIR: dataDir,
    PORT: '0',
    JARIMA_WORKERS: PIPELINE_WORKERS,
    ...o.env,
  });
  const stop = async () => {
    await jarima.stop('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await running(jarima);
    const home = await fetch(`${url}/`);
    if (
      !(home.headers.get('content-type') ?? '').startsWith('text/html') ||
      !(await home.text()).includes('id="root"')
    )
      throw new Error(`${url}/ does not serve the web app (${home.status}); is webRoutes registered?`);
    const accounts = await demoAccounts(dataDir);
    // Roles that must use a second factor enrol now, through the API, so the browser signs in with a code.
    for (const account of accounts.values()) await staffLogin(url, account);
    return { jarima, db, url, dataDir, accounts, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A full-page screenshot into test/web/artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * A new context and page whose console errors and warnings and uncaught errors are pushed onto `problems`
 * (prefixed with `label`), except messages `expected` says the test caused on purpose.
 */
export async function openPage(
  browser: Browser,
  options: BrowserContextOptions,
  problems: string[],
  watch: { label?: string; expected?: (text: string) => boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const label = watch.label ? `${watch.label} ` : '';
  page.on('console', (m) => {
    if (watch.expected?.(m.text())) return;
    if (m.type() === 'error' || m.type() === 'warning')
      problems.push(`${label}console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${label}page error: ${e.message}`));
  return { context, page };
}

/** The one-time code the SMS simulator sent to `phone` last. */
export async function smsCode(url: string, phone: string): Promise<string> {
  const outbox = (await (await fetch(`${url}/v1/dev/outbox?to=${encodeURIComponent(phone)}`)).json()) as {
    messages: { text: string }[];
  };
  const code = /\b(\d{6})\b/.exec(outbox.messages[0]?.text ?? '')?.[1];
  if (!code) throw new Error(`no sign-in code in the SMS outbox for ${phone}`);
  return code;
}

/** Signs in on the staff sign-in page that is open, submitting with the button or with Enter. */
export async function signInStaff(page: Page, account: StaffAccount, submit: 'click' | 'enter' = 'click') {
  await page.getByLabel('Login').fill(account.login);
  await page.getByLabel('Password').fill(account.password);
  if (submit === 'enter') await page.keyboard.press('Enter');
  else await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  if (!account.totpSecret) return;
  // The second step: a code from the authenticator app.
  const code = page.getByLabel('Code from the app');
  await code.waitFor();
  await code.fill(await totpCode(account.totpSecret));
  if (submit === 'enter') await page.keyboard.press('Enter');
  else await page.getByRole('button', { name: 'Continue', exact: true }).click();
}

/** A staff member's sign-in as the app keeps it (sessionStorage `jarima.staff`), from `POST /v1/auth/login`. */
export async function staffSession(url: string, account: StaffAccount, role: string) {
  const res = await staffLogin(url, account);
  return {
    token: res.token,
    subjectId: res.subjectId,
    role,
    login: account.login,
    expiresAt: res.expiresAt,
    refreshToken: res.refreshToken,
    refreshExpiresAt: res.refreshExpiresAt,
    sessionId: res.sessionId,
  };
}

/**
 * A context whose pages open signed in, as a returning visitor's tab would: the citizen's session (with the filing
 * rules already read) and/or the staff member's, put in storage before the app's own scripts run.
 */
export async function signedInContext(
  browser: Browser,
  signIn: { citizen?: object; staff?: object },
): Promise<BrowserContext> {
  const context = await browser.newContext();
  if (signIn.citizen)
    await context.addInitScript((s) => {
      sessionStorage.setItem('jarima.session', s);
      localStorage.setItem('jarima.rulesRead', '1');
    }, JSON.stringify(signIn.citizen));
  if (signIn.staff)
    await context.addInitScript(
      (s) => sessionStorage.setItem('jarima.staff', s),
      JSON.stringify(signIn.staff),
    );
  return context;
}
