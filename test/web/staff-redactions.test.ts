import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { makeVideo } from '../helpers/media.js';
import { client, validReport } from '../helpers/process.js';
import {
  chromiumAvailable,
  launchChromium,
  openPage,
  screenshot,
  signInStaff,
  startWebStack,
  type WebStack,
} from './browser.js';

/**
 * Regions to blur for the fined driver, marked in the inspector's review screen in a real browser against a real
 * `jarima start`: a citizen's report with a real photo reaches the queue; the inspector takes it, drags a rectangle
 * over the photo, and saves. The API and the database hold the region as fractions of the picture matching the
 * drag; after a reload it is outlined where it was drawn, also on the zoomed photo; removing it and saving clears
 * the set. A region drawn over the video player is saved for the video alone. Esc leaves the mode without
 * returning the report, and returns it once the mode is closed.
 * Screenshots go to test/web/artifacts/staff-redactions-*.png.
 */
const PHONE = '+998 90 333 44 55';
const PLATE = '01 R 555 RA';
/** The drag, as fractions of the shown picture: from (0.2, 0.3) to (0.5, 0.65). */
const FROM = { x: 0.2, y: 0.3 };
const TO = { x: 0.5, y: 0.65 };
const run = chromiumAvailable();

let stack: WebStack;
let browser: Browser;
let page: Page;
let citizen: string;
let reportId: string;
/** The report's evidence files: kind → id. */
const files = new Map<string, string>();
const problems: string[] = [];

type Box = { x: number; y: number; width: number; height: number };
type Region = { x: number; y: number; w: number; h: number };

const api = () => client(stack.url);
const shot = (name: string) => screenshot(page, `staff-redactions-${name}`);

/** Where the picture is drawn on the screen: <img> and <video> letterbox it (object-fit: contain). */
async function pictureBox(testId: 'photo' | 'video' = 'photo'): Promise<Box> {
  return page.getByTestId(testId).evaluate((el: HTMLImageElement | HTMLVideoElement) => {
    const r = el.getBoundingClientRect();
    const [nw, nh] =
      el instanceof HTMLVideoElement ? [el.videoWidth, el.videoHeight] : [el.naturalWidth, el.naturalHeight];
    const scale = Math.min(r.width / nw, r.height / nh);
    const [w, h] = [nw * scale, nh * scale];
    return { x: r.left + (r.width - w) / 2, y: r.top + (r.height - h) / 2, width: w, height: h };
  });
}

const at = (box: Box, f: { x: number; y: number }) => ({
  x: box.x + f.x * box.width,
  y: box.y + f.y * box.height,
});

/** The photo is on the page, loaded from its blob. */
async function photoShown(): Promise<void> {
  const photo = page.getByTestId('photo');
  await expect
    .poll(() => photo.evaluate((i: HTMLImageElement) => i.naturalWidth), { timeout: 20_000 })
    .toBe(1280);
  await photo.scrollIntoViewIfNeeded();
}

/** The staff token the page signed in with, and whose it is. */
async function staffToken(): Promise<{ token: string; subjectId: string }> {
  return JSON.parse((await page.evaluate(() => sessionStorage.getItem('jarima.staff')))!);
}

/** The regions the review API returns for the report's file of `kind`. */
async function savedRegions(kind = 'photo'): Promise<Region[]> {
  const { token } = await staffToken();
  const r = await api().call('GET', `/v1/review/${reportId}`, undefined, token);
  expect(r.status).toBe(200);
  return r.body.evidence.find((e: { id: string }) => e.id === files.get(kind)).redactions;
}

async function rows(kind = 'photo'): Promise<(Region & { marked_by: string })[]> {
  const { rows } = await stack.db.pool.query<Region & { marked_by: string }>(
    `select x, y, w, h, marked_by::text from evidence_redactions
      where report_id = $1 and evidence_id = $2 order by position`,
    [reportId, files.get(kind)],
  );
  return rows;
}

/** Shows the file of `kind` on the stage (J moves through them). */
async function show(kind: 'photo' | 'video'): Promise<void> {
  const stage = page.getByTestId('evidence-stage');
  for (let i = 0; i < 2 && (await stage.getAttribute('data-kind')) !== kind; i++)
    await page.keyboard.press('j');
  expect(await stage.getAttribute('data-kind')).toBe(kind);
}

/** The outlines on the page, on the screen. */
async function outlines(): Promise<Box[]> {
  const all = await page.getByTestId('redaction').all();
  return Promise.all(all.map(async (o) => (await o.boundingBox())!));
}

function expectNear(actual: Box, expected: Box, px = 3): void {
  expect(Math.abs(actual.x - expected.x), 'left').toBeLessThanOrEqual(px);
  expect(Math.abs(actual.y - expected.y), 'top').toBeLessThanOrEqual(px);
  expect(Math.abs(actual.width - expected.width), 'width').toBeLessThanOrEqual(px);
  expect(Math.abs(actual.height - expected.height), 'height').toBeLessThanOrEqual(px);
}

/** The drag's rectangle on the picture `box`. */
function dragged(box: Box): Box {
  const a = at(box, FROM);
  const b = at(box, TO);
  return { x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y };
}

async function drag(box: Box): Promise<void> {
  const a = at(box, FROM);
  const b = at(box, TO);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 4 });
  await page.mouse.move(b.x, b.y, { steps: 4 });
  await page.mouse.up();
}

async function uploadVideo(): Promise<string> {
  const form = new FormData();
  const clip = await makeVideo({ width: 1280, height: 720, seconds: 3, fps: 30, format: 'webm' });
  form.append('file', new Blob([new Uint8Array(clip)], { type: 'video/webm' }), 'dashcam.webm');
  const res = await fetch(`${stack.url}/v1/evidence`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${citizen}` },
  });
  expect(res.status).toBeLessThan(300);
  return ((await res.json()) as { id: string }).id;
}

/** The mode can be opened: the picture is there to draw on. */
async function modeReady(): Promise<void> {
  await expect.poll(() => button(/^Blur regions/).isEnabled(), { timeout: 20_000 }).toBe(true);
}

const button = (name: string | RegExp) => page.getByRole('button', { name });
const count = () => page.getByTestId('redaction-count').textContent();
const status = () => page.getByTestId('redaction-status').textContent();

describe.skipIf(!run)('regions to blur for the driver, marked by an inspector in Chromium', () => {
  beforeAll(async () => {
    stack = await startWebStack({ name: 'staff-redactions', database: createTestDatabase() });
    citizen = await api().signIn(PHONE);
    files.set('photo', await api().upload(citizen));
    files.set('video', await uploadVideo());
    const r = await api().call(
      'POST',
      '/v1/reports',
      validReport(files.get('photo')!, { plate: PLATE, evidenceIds: [...files.values()] }),
      citizen,
    );
    expect(r.status).toBe(202);
    reportId = r.body.id;
    expect((await api().settled(reportId, citizen)).status).toBe('awaiting_review');

    browser = await launchChromium();
    ({ page } = await openPage(
      browser,
      { viewport: { width: 1280, height: 900 }, locale: 'en-GB' },
      problems,
    ));
    await page.addInitScript(() => {
      if (!localStorage.getItem('jarima.lang')) localStorage.setItem('jarima.lang', 'en');
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('takes the report; Esc in the mode drops an unsaved region and keeps the report', async () => {
    await page.goto(`${stack.url}/inspector`);
    await signInStaff(page, stack.accounts.get('inspector')!);
    await page.waitForURL(/\/inspector$/);
    await page.locator(`tr[data-report="${reportId}"]`).waitFor();
    await page.keyboard.press('t');
    await page.waitForURL(`**/inspector/review/${reportId}`);
    await page.locator('[data-testid="lease"][data-holding="true"]').waitFor();
    await show('photo');
    await photoShown();
    await expect.poll(count).toBe('Nothing blurred for the driver');

    // B opens the mode (once the picture is there to draw on).
    await modeReady();
    await page.keyboard.press('b');
    await button('Save regions').waitFor();
    await drag(await pictureBox());
    await expect.poll(async () => (await outlines()).length).toBe(1);
    await expect.poll(status).toBe('Not saved yet');

    await page.keyboard.press('Escape');
    await button(/^Blur regions/).waitFor();
    expect(await outlines()).toEqual([]);
    expect(page.url()).toMatch(new RegExp(`/inspector/review/${reportId}$`));
    expect(await page.getByTestId('lease').getAttribute('data-holding')).toBe('true');
    expect(await rows()).toEqual([]);
  }, 60_000);

  it('draws a rectangle with the mouse and saves it: the API and the database hold the drag', async () => {
    await button(/^Blur regions/).click();
    await drag(await pictureBox());
    await expect.poll(async () => (await outlines()).length).toBe(1);
    expectNear((await outlines())[0]!, dragged(await pictureBox()));
    await button('Save regions').click();
    await expect.poll(status).toBe('Saved');
    expect(await count()).toBe('1 region blurred for the driver');
    expect(await button('Save regions').isDisabled()).toBe(true);
    await shot('saved');

    const expected = { x: FROM.x, y: FROM.y, w: TO.x - FROM.x, h: TO.y - FROM.y };
    for (const got of [(await savedRegions())[0]!, (await rows())[0]!])
      for (const k of ['x', 'y', 'w', 'h'] as const) expect(got[k], k).toBeCloseTo(expected[k], 2);
    expect(await savedRegions()).toHaveLength(1);
    const db = await rows();
    expect(db).toHaveLength(1);
    expect(db[0]!.marked_by).toBe((await staffToken()).subjectId);
    const { rows: audit } = await stack.db.pool.query(
      `select detail from audit_log where action = 'evidence_redacted' and target_id = $1`,
      [reportId],
    );
    expect(audit.map((a) => a.detail.regions)).toEqual([1]);
  });

  it('outlines the saved region after a reload, where it was drawn, fit or zoomed', async () => {
    await page.reload();
    await photoShown();
    await modeReady();
    await expect.poll(async () => (await outlines()).length).toBe(1);
    expectNear((await outlines())[0]!, dragged(await pictureBox()));
    expect(await count()).toBe('1 region blurred for the driver');
    // Outside the mode the outline lets clicks through to the photo (full size / fit)...
    await page.getByTestId('photo').click({ position: { x: 5, y: 5 } });
    await expect.poll(() => page.locator('.photo.zoomed').count()).toBe(1);
    // ...and follows the picture at full size.
    await expect
      .poll(async () => {
        const [o] = await outlines();
        const want = dragged(await pictureBox());
        return o ? Math.abs(o.width - want.width) < 2 : null;
      })
      .toBe(true);
    expectNear((await outlines())[0]!, dragged(await pictureBox()));
    await page.keyboard.press('z');
    await expect.poll(() => page.locator('.photo.zoomed').count()).toBe(0);
    await shot('reloaded');
  }, 60_000);

  it('removes the region and saves the empty set, which clears it', async () => {
    await modeReady();
    await page.keyboard.press('b');
    await button('Remove region 1').click();
    expect(await outlines()).toEqual([]);
    await expect.poll(status).toBe('Not saved yet');
    await button('Save regions').click();
    await expect.poll(status).toBe('Saved');
    expect(await count()).toBe('Nothing blurred for the driver');
    expect(await rows()).toEqual([]);
    expect(await savedRegions()).toEqual([]);
    await shot('cleared');
  });

  it('draws over the video player too, saved for the video alone; Space still plays', async () => {
    await page.keyboard.press('j');
    await show('video');
    const video = page.getByTestId('video');
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 20_000 })
      .toBe(1280);
    await video.scrollIntoViewIfNeeded();
    expect(await count()).toBe('Nothing blurred for the driver');
    await modeReady();
    await button(/^Blur regions/).click();
    await drag(await pictureBox('video'));
    await expect.poll(async () => (await outlines()).length).toBe(1);
    expectNear((await outlines())[0]!, dragged(await pictureBox('video')));
    await button('Save regions').click();
    await expect.poll(status).toBe('Saved');
    const [got] = await rows('video');
    expect(got?.x).toBeCloseTo(FROM.x, 2);
    expect(got?.h).toBeCloseTo(TO.y - FROM.y, 2);
    expect(await savedRegions('video')).toHaveLength(1);
    expect(await rows('photo')).toEqual([]);
    // The player's keys work in the mode: Space plays and pauses.
    await page.locator('body').focus();
    await page.keyboard.press('Space');
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.paused)).toBe(false);
    await page.keyboard.press('Space');
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.paused)).toBe(true);
    await shot('video');

    // Back on the photo, what this screen saved there (nothing) is shown, not the set it was loaded with.
    await page.keyboard.press('Escape');
    await page.keyboard.press('k');
    await show('photo');
    await photoShown();
    expect(await count()).toBe('Nothing blurred for the driver');
    expect(await outlines()).toEqual([]);
    await page.keyboard.press('j');
    await show('video');
    await expect.poll(count).toBe('1 region blurred for the driver');
    // The video is fetched again; B does nothing until there is a picture to draw on.
    await modeReady();
    await page.keyboard.press('b');
    await button('Save regions').waitFor();
  }, 90_000);

  it('keeps the review keys: Esc closes the mode, then returns the report to the queue', async () => {
    await page.keyboard.press('Escape');
    await button(/^Blur regions/).waitFor();
    expect(page.url()).toMatch(new RegExp(`/inspector/review/${reportId}$`));
    await page.keyboard.press('Escape');
    await page.waitForURL(/\/inspector$/);
    await expect
      .poll(() => page.getByTestId('queue-note').textContent())
      .toBe(`${PLATE} is back in the queue.`);
    expect((await api().call('GET', `/v1/reports/${reportId}`, undefined, citizen)).body.status).toBe(
      'awaiting_review',
    );
  });

  it('logged no errors or warnings in the console', () => {
    expect(problems).toEqual([]);
  });
});
