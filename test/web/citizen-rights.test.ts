import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { makeScene } from '../helpers/media.js';
import { client, validReport } from '../helpers/process.js';
import {
  chromiumAvailable,
  launchChromium,
  openPage,
  screenshot,
  staffLogin,
  startWebStack,
  type WebStack,
} from './browser.js';

/**
 * The citizen's follow-up and data rights in a real browser against a real `jarima start`: before review a report
 * is corrected (plate, time and violation) and another withdrawn from the report page; an inspector's question is
 * answered with words and a photo uploaded through the page; then /me/data downloads the archive of it all and
 * deletes the account with the code sent by SMS, after which the same phone starts afresh. Screenshots go to
 * test/web/artifacts/rights-*.png.
 */
const PHONE = '+998 90 222 33 44';
const run = chromiumAvailable();
const exec = promisify(execFile);

let stack: WebStack;
let browser: Browser;
let page: Page;
let photoFile: string;
const problems: string[] = [];
/** While the test sends a refused correction on purpose, the browser's note of the 400 is expected. */
let expectingRefusal = false;
/** The reports the citizen files: corrected, withdrawn, asked about. */
const ids = { corrected: '', withdrawn: '', asked: '' };

const api = () => client(stack.url);
const shot = (name: string) => screenshot(page, `rights-${name}`);

/** The signed-in citizen's access token, as the tab keeps it. */
async function token(): Promise<string> {
  const session = await page.evaluate(() => sessionStorage.getItem('jarima.session'));
  return (JSON.parse(session ?? '{}') as { token: string }).token;
}

/** The newest sign-in (or deletion) code the SMS simulator sent to PHONE, once it is not `previous`. */
async function newCode(previous: string | null): Promise<string> {
  let code: string | null = null;
  await expect
    .poll(
      async () => {
        const outbox = (await api().call('GET', `/v1/dev/outbox?to=${encodeURIComponent(PHONE)}`)).body as {
          messages: { text: string }[];
        };
        // Newest first; other texts (notifications) may have come in between.
        const texts = outbox.messages.map((m) => /code is (\d{6})/.exec(m.text)?.[1]).filter(Boolean);
        code = texts[0] ?? null;
        return code !== null && code !== previous;
      },
      { timeout: 15_000 },
    )
    .toBe(true);
  return code!;
}

/** Signs in on the page with the code from the SMS outbox; returns the code used. */
async function signIn(previous: string | null): Promise<string> {
  await page.goto(`${stack.url}/`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Phone number').fill(PHONE);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Code from the SMS').waitFor();
  const code = await newCode(previous);
  await page.getByLabel('Code from the SMS').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/reports$/);
  return code;
}

/** Files a report through the API and waits until it waits in the review queue (unclaimed: changeable). */
async function fileReport(plate: string, violationCode: string): Promise<string> {
  const t = await token();
  const evidence = await api().upload(t);
  const r = await api().call('POST', '/v1/reports', validReport(evidence, { plate, violationCode }), t);
  expect(r.status).toBe(202);
  const settled = await api().settled(r.body.id, t);
  expect(settled).toMatchObject({ status: 'awaiting_review', changeable: true });
  return r.body.id as string;
}

const badge = () => page.getByTestId('report-status').locator('[data-status]');
const statusOnPage = () => badge().getAttribute('data-status');

async function openReport(id: string): Promise<void> {
  await page.goto(`${stack.url}/reports/${id}`);
  await badge().waitFor();
}

async function reportRow(id: string) {
  const { rows } = await stack.db.pool.query<{
    status: string;
    plate: string;
    violation_code: string;
    incident_at: Date;
    citizen_id: string | null;
  }>('select status, plate, violation_code, incident_at, citizen_id from reports where id = $1', [id]);
  return rows[0]!;
}

async function eventsOf(id: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
  return (await api().call('GET', `/v1/reports/${id}/events`, undefined, await token())).body.events;
}

describe.skipIf(!run)('the citizen’s follow-up and data rights in Chromium', () => {
  beforeAll(async () => {
    stack = await startWebStack({
      name: 'rights',
      database: createTestDatabase(),
      // The test asks for three codes within minutes: sign-in, the deletion's, and sign-in again.
      env: { OTP_RESEND_SECONDS: '0' },
    });
    photoFile = path.join(stack.dataDir, 'closer.jpg');
    await writeFile(photoFile, await makeScene(1280, 720));
    browser = await launchChromium();
    ({ page } = await openPage(
      browser,
      { viewport: { width: 390, height: 844 }, locale: 'en-GB' },
      problems,
      { expected: (text) => expectingRefusal && text.includes('status of 400') },
    ));
    await page.addInitScript(() => {
      if (!localStorage.getItem('jarima.lang')) localStorage.setItem('jarima.lang', 'en');
      localStorage.setItem('jarima.rulesRead', '1');
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('signs the citizen in with the code from the SMS outbox', async () => {
    await signIn(null);
    await page.getByText('You have not filed any reports yet.').waitFor();
  });

  it('corrects plate, time and violation before review, sending only what changed, and checks the report again', async () => {
    const types = (await api().call('GET', '/v1/violation-types?active=true')).body.items as {
      code: string;
    }[];
    expect(types.map((v) => v.code)).toEqual(expect.arrayContaining(['128-6.1', '128-4.2']));
    ids.corrected = await fileReport('01 A 321 BC', '128-6.1');
    await openReport(ids.corrected);
    await page.getByRole('button', { name: 'Correct', exact: true }).click();
    const form = page.getByTestId('correction');
    await form.waitFor();
    // The form starts from what was filed.
    expect(await page.getByTestId('plate').inputValue()).toBe('01 A 321 BC');
    expect(await page.getByTestId('violation-select').inputValue()).toBe('128-6.1');
    await expect.poll(() => page.getByTestId('place-status').textContent()).toContain('41.29950, 69.24010');

    // Half an hour ago on Tashkent's clock, to the minute, as the datetime-local field holds it.
    const local = new Date(Date.now() + 5 * 3600_000 - 30 * 60_000).toISOString().slice(0, 16);
    await page.getByTestId('plate').fill('01 k 456 mn');
    await page.getByTestId('incident-time').fill(local);
    await page.getByTestId('violation-select').selectOption('128-4.2');
    await shot('correct-form');

    // A refusal naming a field is shown under that field (the body is altered on its way, as the form would never
    // send a one-letter plate), and nothing is recorded.
    expectingRefusal = true;
    await page.route(`**/v1/reports/${ids.corrected}`, (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>;
      return route.continue({ postData: JSON.stringify({ ...body, plate: 'Z' }) });
    });
    await page.getByRole('button', { name: 'Save and check again' }).click();
    const plateError = page.locator('[data-field-error="plate"]');
    await expect.poll(() => plateError.textContent()).toBe('Please check what you entered.');
    const nextToPlate = page
      .getByTestId('plate')
      .locator('xpath=ancestor::div[contains(@class,"field")][1]/following-sibling::*[1]');
    expect(await nextToPlate.getAttribute('data-field-error')).toBe('plate');
    expect(await page.locator('[data-field-error]').count()).toBe(1);
    await shot('correct-field-error');
    await page.unroute(`**/v1/reports/${ids.corrected}`);
    expectingRefusal = false;
    expect((await eventsOf(ids.corrected)).map((e) => e.type)).not.toContain('corrected');

    const sent = page.waitForRequest(
      (r) => r.method() === 'PATCH' && r.url().endsWith(`/v1/reports/${ids.corrected}`),
    );
    await page.getByRole('button', { name: 'Save and check again' }).click();
    const body = JSON.parse((await sent).postData() ?? '{}') as Record<string, unknown>;
    // Only the changed fields: not the place or the description, which stayed as filed.
    expect(body).toEqual({ plate: '01 K 456 MN', incidentAt: `${local}:00+05:00`, violationCode: '128-4.2' });

    await page.getByTestId('timeline').locator('li[data-event="corrected"]').waitFor();
    await page.getByText('You corrected the report; checking again').waitFor();
    // Every automated check runs again on what it now says, and it is back in the queue.
    await expect
      .poll(async () => (await reportRow(ids.corrected)).status, { timeout: 30_000 })
      .toBe('awaiting_review');
    // Re-entering the queue sends no second `accepted` notification (one per report and event), so the live
    // stream says nothing: the page, asking again while the checks run, shows it without a reload.
    await expect.poll(statusOnPage, { timeout: 15_000 }).toBe('awaiting_review');
    await expect.poll(() => page.locator('.facts').textContent()).toContain('01 K 456 MN');
    await expect(page.locator('.facts').textContent()).resolves.toContain('128-4.2');
    await shot('corrected');

    const row = await reportRow(ids.corrected);
    expect(row).toMatchObject({ status: 'awaiting_review', plate: '01K456MN', violation_code: '128-4.2' });
    expect(row.incident_at.getTime()).toBe(Date.parse(`${local}:00+05:00`));
    const events = await eventsOf(ids.corrected);
    const corrected = events.filter((e) => e.type === 'corrected');
    expect(corrected).toHaveLength(1);
    expect(corrected[0]!.data.changes).toEqual({
      plate: { from: '01A321BC', to: '01K456MN' },
      incidentAt: { from: expect.any(String), to: new Date(`${local}:00+05:00`).toISOString() },
      violationCode: { from: '128-6.1', to: '128-4.2' },
    });
    // After the correction the checks ran again: validated twice in all.
    expect(events.filter((e) => e.type === 'validated')).toHaveLength(2);
  }, 120_000);

  it('withdraws a report before review', async () => {
    ids.withdrawn = await fileReport('01 B 654 DE', '128-6.1');
    await openReport(ids.withdrawn);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Withdraw', exact: true }).click();
    await expect.poll(statusOnPage).toBe('withdrawn');
    await page.getByText('You withdrew this report. Nothing more will happen with it.').waitFor();
    await page.getByTestId('timeline').locator('li[data-event="withdrawn"]').waitFor();
    // Withdrawn is final: neither action is offered any more.
    expect(await page.getByTestId('follow-up-change').count()).toBe(0);
    await shot('withdrawn');
    expect((await reportRow(ids.withdrawn)).status).toBe('withdrawn');
    expect(
      (await api().call('GET', `/v1/reports/${ids.withdrawn}`, undefined, await token())).body,
    ).toMatchObject({
      status: 'withdrawn',
      changeable: false,
    });
  }, 60_000);

  it('answers an inspector’s question with words and a photo uploaded through the page', async () => {
    // The corrected report is now under another violation: the inspector's filtered claim takes this one.
    ids.asked = await fileReport('01 D 987 FG', '128-6.1');
    const inspector = await staffLogin(stack.url, stack.accounts.get('inspector')!);
    const claimed = await api().call('POST', '/v1/review/next', { violation: '128-6.1' }, inspector.token);
    expect(claimed.status).toBe(200);
    expect(claimed.body.report.id).toBe(ids.asked);
    const question = 'Please send a closer photo where the plate can be read.';
    const decided = await api().call(
      'POST',
      `/v1/review/${ids.asked}/decision`,
      { decision: 'needs_info', note: question },
      inspector.token,
    );
    expect(decided.body).toMatchObject({ status: 'needs_info' });

    await openReport(ids.asked);
    await expect.poll(statusOnPage).toBe('needs_info');
    expect(await page.getByTestId('question').textContent()).toBe(question);
    // Review has started: it can no longer be withdrawn or corrected, only answered.
    expect(await page.getByTestId('follow-up-change').count()).toBe(0);
    await page.getByTestId('answer-text').fill('Here is a closer photo of the car.');
    await page.getByTestId('evidence-input').setInputFiles(photoFile);
    await page.getByTestId('upload-done').waitFor({ timeout: 30_000 });
    await shot('answer');
    await page.getByRole('button', { name: 'Send the answer' }).click();

    await expect.poll(statusOnPage, { timeout: 15_000 }).toBe('awaiting_review');
    await page.getByTestId('timeline').locator('li[data-event="answered"]').waitFor();
    expect(await page.getByTestId('question').count()).toBe(0);
    await shot('answered');

    const report = (await api().call('GET', `/v1/reports/${ids.asked}`, undefined, await token())).body;
    expect(report).toMatchObject({ status: 'awaiting_review', question: null });
    expect(report.evidence).toHaveLength(2);
    const answered = (await eventsOf(ids.asked)).filter((e) => e.type === 'answered');
    expect(answered).toEqual([
      expect.objectContaining({ data: { text: 'Here is a closer photo of the car.', evidenceCount: 1 } }),
    ]);
    expect((await reportRow(ids.asked)).status).toBe('awaiting_review');
  }, 90_000);

  it('downloads the archive of the citizen’s data from /me/data', async () => {
    await page.goto(`${stack.url}/me/data`);
    await page.getByRole('heading', { name: 'My data', level: 1 }).waitFor();
    await shot('my-data');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download my data' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('jarima-my-data.tar.gz');
    await page.getByText('The archive has been saved to your device.').waitFor();
    const archive = path.join(stack.dataDir, 'export.tar.gz');
    await file.saveAs(archive);

    const { stdout: listing } = await exec('tar', ['-tzf', archive]);
    const names = listing.trim().split('\n');
    expect(names).toEqual(expect.arrayContaining(['account.json', 'reports.json']));
    // Every photo the citizen uploaded: one per report and the answer's.
    expect(names.filter((n) => /^evidence\/[0-9a-f]{64}\.jpg$/.test(n))).toHaveLength(4);
    const { stdout } = await exec('tar', ['-xzOf', archive, 'reports.json'], { maxBuffer: 16 << 20 });
    const reports = JSON.parse(stdout) as { id: string; status: string; events: { type: string }[] }[];
    expect(reports.map((r) => r.id).sort()).toEqual(Object.values(ids).sort());
    const byId = new Map(reports.map((r) => [r.id, r]));
    expect(byId.get(ids.withdrawn)!.status).toBe('withdrawn');
    expect(byId.get(ids.corrected)!.events.map((e) => e.type)).toContain('corrected');
    expect(byId.get(ids.asked)!.events.map((e) => e.type)).toContain('answered');
  }, 60_000);

  it('deletes the account with the code sent by SMS; signing in again shows none of the old reports', async () => {
    const citizenId = (await reportRow(ids.asked)).citizen_id!;
    const oldToken = await token();
    const signInCode = await newCode(null);
    await page.getByRole('button', { name: 'Send a confirmation code' }).click();
    await page.getByLabel('Code from the SMS').waitFor();
    await page.getByLabel('Code from the SMS').fill(await newCode(signInCode));
    const confirm = page.getByRole('button', { name: 'Delete my account' });
    // Not until the citizen says they understand.
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel('I understand that my account is deleted for good.').check();
    await shot('delete');
    await confirm.click();
    await page.waitForURL(`${stack.url}/`);
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('jarima.session'))).toBeNull();

    const { rows } = await stack.db.pool.query<{ erased_at: Date | null }>(
      'select erased_at from citizens where id = $1',
      [citizenId],
    );
    expect(rows[0]!.erased_at).toBeInstanceOf(Date);
    // Open reports are withdrawn; the old token is dead.
    expect((await reportRow(ids.asked)).status).toBe('withdrawn');
    expect((await api().call('GET', '/v1/me/reports', undefined, oldToken)).status).toBe(401);

    await signIn(signInCode);
    await page.getByText('You have not filed any reports yet.').waitFor();
    await shot('after-deletion');
    const mine = await api().call('GET', '/v1/me/reports', undefined, await token());
    expect(mine.body.items).toEqual([]);
  }, 90_000);

  it('logged no errors or warnings in the console', () => {
    expect(problems).toEqual([]);
  });
});
