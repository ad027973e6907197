import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/auth/tokens.js';
import { deriveKeys } from '../../src/platform/security/keys.js';
import { createTestDatabase } from '../helpers/db.js';
import { client, validReport } from '../helpers/process.js';
import {
  chromiumAvailable,
  launchChromium,
  screenshot,
  signedInContext,
  staffSession,
  startWebStack,
  totpCode,
  type WebStack,
} from './browser.js';

/**
 * Staff administration in a real browser against a real `jarima start`: an administrator creates an inspector in a
 * new unit and hands over the one-time link; the inspector, in a browser of their own, sets a password, signs in,
 * sets up two-factor sign-in from the secret on the page, keeps the recovery codes, signs in again with a code and
 * approves a report of their unit. A supervisor sees the unit's workload and a breached deadline. An access token
 * about to expire is refreshed before the next call. Screenshots go to test/web/artifacts/admin-*.png.
 */
const run = chromiumAvailable();
const PHONE = '+998 90 222 33 44';
const UNIT = 'Chilonzor unit';
const LOGIN = 'new.inspector';
const PASSWORD = 'a kettle of gentle rivers';

let stack: WebStack;
let browser: Browser;
let citizen: string;
const problems: string[] = [];
const contexts: BrowserContext[] = [];
/** The report of the new unit and one of the demo unit. */
let unitReport = '';
let demoReport = '';
let adminToken = '';

const api = () => client(stack.url);

async function fileReport(plate: string): Promise<string> {
  const evidence = await api().upload(citizen);
  const r = await api().call('POST', '/v1/reports', validReport(evidence, { plate }), citizen);
  expect(r.status).toBe(202);
  expect((await api().settled(r.body.id, citizen)).status).toBe('awaiting_review');
  return r.body.id;
}

async function page(context: BrowserContext, label: string): Promise<Page> {
  const p = await context.newPage();
  p.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      problems.push(`${label} console.${m.type()}: ${m.text()}`);
  });
  p.on('pageerror', (e) => problems.push(`${label} page error: ${e.message}`));
  await p.addInitScript(() => localStorage.setItem('jarima.lang', 'en'));
  return p;
}

describe.skipIf(!run)('staff administration in Chromium', () => {
  beforeAll(async () => {
    // Access tokens of 60 s (the least allowed): the consoles refresh them again and again during this file.
    stack = await startWebStack({
      name: 'admin',
      database: createTestDatabase(),
      env: { ACCESS_TOKEN_TTL_SECONDS: '60' },
    });
    citizen = await api().signIn(PHONE);
    unitReport = await fileReport('01 G 123 GA');
    demoReport = await fileReport('01 H 456 HA');
    adminToken = (await staffSession(stack.url, stack.accounts.get('admin')!, 'admin')).token;

    // A new unit takes over the district the reports were filed in (from the demo unit, which covers them all).
    const { rows } = await stack.db.pool.query<{ district_id: number }>(
      'select district_id from reports where id = $1',
      [unitReport],
    );
    const district = rows[0]!.district_id;
    expect(district).toBeTruthy();
    const units = (await api().call('GET', '/v1/units', undefined, adminToken)).body.items as {
      id: number;
      name: string;
      districts: { id: number }[];
    }[];
    const demo = units.find((u) => u.name === 'Demo unit')!;
    const patched = await api().call(
      'PATCH',
      `/v1/admin/units/${demo.id}`,
      { districtIds: demo.districts.map((d) => d.id).filter((id) => id !== district) },
      adminToken,
    );
    expect(patched.status).toBe(200);
    const created = await api().call(
      'POST',
      '/v1/admin/units',
      { name: UNIT, districtIds: [district] },
      adminToken,
    );
    expect(created.status).toBe(201);
    // The demo unit's report stays with the demo unit, for the supervisor's breach.
    await stack.db.pool.query('update reports set unit_id = $2 where id = $1', [demoReport, demo.id]);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await stack?.stop();
  });

  let link = '';

  it('an administrator creates an inspector in a unit and gets the one-time link', async () => {
    const context = await signedInContext(browser, {
      staff: await staffSession(stack.url, stack.accounts.get('admin')!, 'admin'),
    });
    contexts.push(context);
    const admin = await page(context, 'admin');
    await admin.goto(`${stack.url}/staff/admin`);
    await admin.getByRole('heading', { name: 'Administration' }).waitFor();
    await admin.getByRole('link', { name: 'Administration' }).waitFor();
    const form = admin.getByRole('form', { name: 'New account' });
    await form.getByLabel('Login').fill(LOGIN);
    await form.getByLabel('Name').fill('Nodira Karimova');
    await form.getByLabel('Role').selectOption('inspector');
    await form.getByLabel('Unit').selectOption({ label: UNIT });
    await form.getByRole('button', { name: 'Create account' }).click();
    const shown = admin.getByTestId('set-password-link');
    await shown.waitFor();
    link = (await shown.textContent()) ?? '';
    expect(link).toMatch(/\/staff\/set-password#token=[A-Za-z0-9_-]{43}$/);
    await admin.locator(`tr[data-staff="${LOGIN}"]`).waitFor();
    expect(await admin.locator(`tr[data-staff="${LOGIN}"]`).textContent()).toContain('no password yet');
    await screenshot(admin, 'admin-created');

    // The unit's districts and the audit log are there too.
    await admin.getByRole('button', { name: 'Units' }).click();
    await admin.locator(`li[data-unit="${UNIT}"]`).waitFor();
    await admin.getByRole('button', { name: 'Audit log' }).click();
    await admin.locator('tr[data-action="staff_created"]').first().waitFor();
    await screenshot(admin, 'admin-audit');
  }, 90_000);

  it('the inspector sets a password from the link, signs in, enrols two-factor and approves a unit report', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const me = await page(context, 'inspector');
    // The link as the administrator handed it over, on this server.
    await me.goto(`${stack.url}${new URL(link).pathname}${new URL(link).hash}`);
    await me.getByRole('heading', { name: 'Set your password' }).waitFor();
    await me.getByTestId('link-login').getByText(LOGIN).waitFor();
    // The token is taken off the address bar.
    expect(me.url()).not.toContain('token=');
    await me.getByText('At least 12 characters').waitFor();
    await me.getByLabel('New password', { exact: true }).fill(PASSWORD);
    await me.getByLabel('Repeat the new password').fill(`${PASSWORD}!`);
    await me.getByRole('button', { name: 'Set password' }).click();
    await me.getByRole('alert').getByText('The two passwords differ.').waitFor();
    await me.getByLabel('Repeat the new password').fill(PASSWORD);
    await me.getByRole('button', { name: 'Set password' }).click();
    await me.getByTestId('password-set').waitFor();
    await screenshot(me, 'admin-password-set');

    await me.locator('main').getByRole('link', { name: 'Sign in' }).click();
    await me.getByLabel('Login').fill(LOGIN);
    await me.getByLabel('Password').fill(PASSWORD);
    await me.getByRole('button', { name: 'Sign in', exact: true }).click();
    await me.waitForURL(/\/inspector$/);

    // Two-factor sign-in, set up from the account page: the secret on the page gives the codes.
    await me.getByRole('link', { name: 'My account' }).click();
    await me.getByRole('heading', { name: 'My account' }).waitFor();
    await me.locator('[data-testid="my-sessions"] tr[data-current="true"]').waitFor();
    await me.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const secret = (await me.getByTestId('totp-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    expect(await me.locator('img.totp-qr').getAttribute('src')).toMatch(/^data:image\/svg\+xml;utf8,/);
    await expect
      .poll(() => me.locator('img.totp-qr').evaluate((i: HTMLImageElement) => i.naturalWidth))
      .toBeGreaterThan(0);
    await screenshot(me, 'admin-enrol');
    await me.getByLabel('Code from the app').fill(await totpCode(secret));
    await me.getByRole('button', { name: 'Confirm' }).click();
    const codes = me.getByTestId('recovery-codes');
    await codes.waitFor();
    expect(await codes.locator('li').count()).toBe(10);
    const continueButton = codes.getByRole('button', { name: 'Continue' });
    expect(await continueButton.isDisabled()).toBe(true);
    await codes.getByLabel('I saved them').check();
    await continueButton.click();
    await me.getByTestId('two-factor').getByText('On: you sign in with a code').first().waitFor();

    // Signing in again now asks for a code.
    await me.getByRole('button', { name: 'Sign out', exact: true }).click();
    await me.waitForURL(/\/staff\/sign-in$/);
    await me.getByLabel('Login').fill(LOGIN);
    await me.getByLabel('Password').fill(PASSWORD);
    await me.getByRole('button', { name: 'Sign in', exact: true }).click();
    await me.getByLabel('Code from the app').fill(await totpCode(secret));
    await me.getByRole('button', { name: 'Continue', exact: true }).click();
    await me.waitForURL(/\/inspector$/);

    // The unit's report is in the queue, the demo unit's is not.
    await me.locator(`tr[data-report="${unitReport}"]`).waitFor();
    expect(await me.locator(`tr[data-report="${demoReport}"]`).count()).toBe(0);
    await me.keyboard.press('t');
    await me.waitForURL(`**/inspector/review/${unitReport}`);
    await me.locator('[data-testid="lease"][data-holding="true"]').waitFor();
    await me.keyboard.press('a');
    await me.waitForURL(/\/inspector$/);
    await expect
      .poll(
        async () =>
          (
            await stack.db.pool.query<{ status: string }>('select status from reports where id = $1', [
              unitReport,
            ])
          ).rows[0]?.status,
      )
      .toMatch(/^(approved|forwarded|fined|paid|rewarded)$/);
  }, 90_000);

  it('a supervisor sees the workload and a breached review deadline', async () => {
    await stack.db.pool.query("update reports set review_due_at = now() - interval '1 hour' where id = $1", [
      demoReport,
    ]);
    const context = await signedInContext(browser, {
      staff: await staffSession(stack.url, stack.accounts.get('supervisor')!, 'supervisor'),
    });
    contexts.push(context);
    const sup = await page(context, 'supervisor');
    await sup.goto(`${stack.url}/staff/supervisor`);
    await sup.getByRole('heading', { name: 'Supervision' }).waitFor();
    await sup.getByTestId('workload').locator('tr[data-inspector]').first().waitFor();
    await sup
      .locator(`[data-testid="breaches"] tr[data-report="${demoReport}"][data-breach="review_overdue"]`)
      .waitFor();
    await sup
      .locator(`[data-testid="breaches"] tr[data-report="${demoReport}"]`)
      .getByRole('button', { name: 'Show audit' })
      .first()
      .click();
    await sup.getByTestId('report-audit').locator('ul').waitFor();
    await sup.getByTestId('alert-history').waitFor();

    // The overdue report goes to the unit's inspector.
    await sup.locator('#reassign-report').selectOption(demoReport);
    await sup.locator('#reassign-to').selectOption({ label: 'Demo Inspector (inspector)' });
    await sup.getByRole('button', { name: 'Reassign', exact: true }).click();
    await sup.getByText('Reassigned to inspector.').waitFor();
    await expect
      .poll(() =>
        sup.locator('[data-testid="workload"] tr[data-inspector="inspector"] td').nth(1).textContent(),
      )
      .toBe('1');
    await screenshot(sup, 'admin-supervisor');
  }, 90_000);

  it('refreshes an access token about to expire before the next call', async () => {
    const session = await staffSession(stack.url, stack.accounts.get('inspector')!, 'inspector');
    expect(session.refreshToken).toBeTruthy();
    // As if the access token had a few seconds left.
    const soon = Date.now() + 5000;
    const context = await signedInContext(browser, {
      staff: { ...session, expiresAt: new Date(soon).toISOString() },
    });
    contexts.push(context);
    const p = await page(context, 'refresh');
    const refreshes: number[] = [];
    p.on('response', (r) => {
      if (r.url().endsWith('/v1/auth/refresh')) refreshes.push(r.status());
    });
    await p.goto(`${stack.url}/inspector`);
    await p.getByRole('heading', { name: 'Review queue' }).waitFor();
    await p.getByTestId('queue').waitFor();
    expect(refreshes).toEqual([200]);
    const stored = JSON.parse((await p.evaluate(() => sessionStorage.getItem('jarima.staff'))) ?? '{}');
    // The refresh token rotated; the access token is a new one's (identical text only within the same second).
    expect(stored.refreshToken).not.toBe(session.refreshToken);
    expect(Date.parse(stored.expiresAt)).toBeGreaterThan(soon);
    expect(Date.parse(stored.expiresAt)).toBeGreaterThanOrEqual(Date.parse(session.expiresAt));
  }, 90_000);

  it('refreshes and retries once when a call meets TOKEN_EXPIRED', async () => {
    const session = await staffSession(stack.url, stack.accounts.get('inspector')!, 'inspector');
    // A lapsed access token of that sign-in, signed with the server's own key (from its data directory);
    // the stored expiry claims it has not, as a client clock running late would.
    const keys = deriveKeys((await readFile(path.join(stack.dataDir, 'secret'), 'utf8')).trim());
    const lapsed = issueToken(
      keys.token,
      { id: session.subjectId, role: 'inspector', sid: session.sessionId! },
      -5,
    );
    const context = await signedInContext(browser, {
      staff: { ...session, token: lapsed, expiresAt: new Date(Date.now() + 600_000).toISOString() },
    });
    contexts.push(context);
    const p = await page(context, 'expired');
    const seen: string[] = [];
    p.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname === '/v1/auth/refresh' || u.pathname === '/v1/review/queue')
        seen.push(`${u.pathname} ${r.status()}`);
    });
    // The browser notes the 401s it got; they are what this test is about.
    const before = problems.length;
    await p.goto(`${stack.url}/inspector`);
    await p.getByTestId('queue').waitFor();
    problems.splice(before);
    expect(seen).toContain('/v1/review/queue 401');
    expect(seen.filter((x) => x.startsWith('/v1/auth/refresh'))).toEqual(['/v1/auth/refresh 200']);
    expect(seen.at(-1)).toBe('/v1/review/queue 200');
  }, 90_000);

  it('logged no errors or warnings in the console', () => {
    expect(problems).toEqual([]);
  });
});
