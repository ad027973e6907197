import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { makeScene, makeVideo } from '../helpers/media.js';
import {
  chromiumAvailable,
  launchChromium,
  openPage,
  screenshot,
  signInStaff,
  smsCode,
  startWebStack,
  type WebStack,
} from './browser.js';

/**
 * The citizen's web app in a real browser against a real `jarima start` (fresh database, pipeline workers, the
 * SMS and registry simulators): sign in with the code from the SMS outbox, file a report with a real photo and a
 * real video (time and place read from the files' own metadata), watch its status change live — through the
 * automated checks to the review queue, where an inspector in a second browser approves it by keyboard, then
 * `forwarded`, the registry's fine and payment and the reward, all without reloading — and the public statistics map
 * with every region. Screenshots of each page go to test/web/artifacts/.
 */
const PHONE = '+998 90 765 43 21';
const TASHKENT = { latitude: 41.3111, longitude: 69.2797 };
const run = chromiumAvailable();

let stack: WebStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let photoFile: string;
let videoFile: string;
/** The photo's camera time as the form should show it: Tashkent wall-clock time, to the minute. */
let cameraTime: string;
/**
 * Where the video says it was recorded (the photo has no GPS): in Tashkent, at degrees that ffmpeg's 16.16
 * fixed-point `loci` box holds exactly.
 */
const VIDEO_PLACE = { lat: 41.3125, lon: 69.25 };
const problems: string[] = [];
/** While the test itself drops a connection, the browser's report of it is expected, not a problem. */
let droppingConnection = false;
let reportId = '';

const shot = (name: string) => screenshot(page, name);

/** The page has no horizontal scrollbar at the current width. */
async function fitsWidth(): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

describe.skipIf(!run)('the web app in Chromium: a citizen and the public', () => {
  beforeAll(async () => {
    stack = await startWebStack({ name: 'citizen', database: createTestDatabase() });

    // A real photo whose camera wrote its time 10 minutes ago, on Tashkent's clock, without an offset.
    const taken = new Date(Date.now() + 5 * 3600_000 - 10 * 60_000).toISOString();
    cameraTime = taken.slice(0, 16);
    const exifTime = `${taken.slice(0, 10).replaceAll('-', ':')} ${taken.slice(11, 19)}`;
    const photo = await sharp(await makeScene(1280, 720))
      .withExif({ IFD2: { DateTimeOriginal: exifTime } })
      .jpeg({ quality: 90 })
      .toBuffer();
    photoFile = path.join(stack.dataDir, 'dashcam.jpg');
    await writeFile(photoFile, photo);
    // A real video (H.264 in MP4, as phones record) whose movie header gives a place; its time is later than the
    // photo's, which the form keeps because it came first.
    videoFile = path.join(stack.dataDir, 'dashcam.mp4');
    await writeFile(
      videoFile,
      await makeVideo({
        width: 1280,
        height: 720,
        seconds: 3,
        fps: 15,
        creationTime: new Date(Date.now() - 5 * 60_000).toISOString(),
        location: `+${VIDEO_PLACE.lat}+0${VIDEO_PLACE.lon}/`,
      }),
    );

    browser = await launchChromium();
    ({ context, page } = await openPage(
      browser,
      {
        viewport: { width: 390, height: 844 },
        locale: 'en-GB',
        geolocation: TASHKENT,
        permissions: ['geolocation'],
      },
      problems,
      { expected: (text) => droppingConnection && text.includes('net::ERR_CONNECTION_RESET') },
    ));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('serves the app with compression and immutable assets', async () => {
    const res = await fetch(`${stack.url}/reports`, { headers: { 'accept-encoding': 'br' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    const script = /<script type="module" crossorigin src="([^"]+)"/.exec(html)?.[1];
    expect(script).toMatch(/^\/assets\/.+\.js$/);
    const js = await fetch(`${stack.url}${script}`, { headers: { 'accept-encoding': 'br' } });
    expect(js.headers.get('content-encoding')).toBe('br');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('signs a citizen in with the code from the SMS outbox', async () => {
    await page.goto(`${stack.url}/`);
    await shot('home');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Phone number').fill(PHONE);
    await shot('signin');
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByLabel('Code from the SMS').waitFor();
    await page.getByLabel('Code from the SMS').fill(await smsCode(stack.url, PHONE));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/reports$/);
    await page.getByText('You have not filed any reports yet.').waitFor();
    // The token is kept for the tab only, never in localStorage.
    const storage = await page.evaluate(() => ({
      session: sessionStorage.getItem('jarima.session') ?? '',
      local: JSON.stringify(localStorage),
    }));
    expect(storage.session).toContain('token');
    expect(storage.local).not.toContain('token');
    await page.locator('[data-live="open"]').waitFor();
  });

  it('files a report in under a minute: photo and video, violation, plate, place and the camera’s time', async () => {
    const started = Date.now();
    await page.getByRole('link', { name: 'File a report' }).first().click();
    // The filing rules come before the form, once.
    await page.getByRole('heading', { name: 'Filing rules' }).waitFor();
    await shot('rules');
    await page.getByRole('button', { name: 'I have read the rules' }).click();

    // A slow uplink so the progress bar is seen moving.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 150 * 1024,
    });
    await page.getByTestId('evidence-input').setInputFiles(photoFile);
    await page.locator('progress').waitFor();
    await page.getByTestId('upload-done').waitFor({ timeout: 30_000 });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await expect.poll(() => page.getByTestId('incident-time').inputValue()).toBe(cameraTime);
    await expect(page.getByTestId('time-hint').textContent()).resolves.toContain('photo');
    // The video is added to the same report; its recorded place fills the map (the photo had none), while the
    // time stays the photo's.
    await page.getByTestId('evidence-input').setInputFiles(videoFile);
    await expect.poll(() => page.getByTestId('upload-done').count(), { timeout: 30_000 }).toBe(2);
    await expect
      .poll(() => page.getByTestId('place-status').textContent())
      .toContain(`${VIDEO_PLACE.lat.toFixed(5)}, ${VIDEO_PLACE.lon.toFixed(5)}`);
    await page.getByText('Place taken from the video’s location.').waitFor();
    expect(await page.getByTestId('incident-time').inputValue()).toBe(cameraTime);

    await page.getByLabel('Search violations').fill('red light');
    await page.getByText('Running a red light').click();

    const plate = page.getByTestId('plate');
    const state = () => page.locator('[data-plate-state]').getAttribute('data-plate-state');
    await plate.fill('01 А');
    expect(await state()).toBe('partial');
    await plate.fill('ZZ');
    expect(await state()).toBe('invalid');
    // Typed on a Russian layout (Cyrillic А), lower case, with spaces: still the plate 01A777AA.
    await plate.fill('01 а 777 aa');
    expect(await state()).toBe('valid');

    // A tap on the map marks a place (the middle of the country: inside it, away from any border).
    const map = page.locator('svg[role="application"]');
    await map.waitFor();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    const box = (await map.boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.55, box.y + box.height * 0.55);
    await expect
      .poll(() => page.getByTestId('place-status').textContent())
      .toMatch(/Marked: 4\d\.\d+, 6\d\.\d+/);
    await page.getByRole('button', { name: 'Use my location' }).click();
    await expect.poll(() => page.getByTestId('place-status').textContent()).toContain('41.31110, 69.27970');
    await expect(page.getByTestId('place-status').textContent()).resolves.toContain('Tashkent');
    expect(await fitsWidth()).toBe(true);
    await shot('report-form');

    // The first answer is lost on the way back (the server has filed the report): the app retries with the same
    // Idempotency-Key and must get the same report, not a second one.
    const keys: string[] = [];
    await page.route('**/v1/reports', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      keys.push((await route.request().allHeaders())['idempotency-key'] ?? '');
      if (keys.length > 1) return route.fallback();
      await route.fetch();
      await route.abort('connectionreset');
    });
    droppingConnection = true;
    await page.getByTestId('submit').click();
    await page.waitForURL(/\/reports\/[0-9a-f-]{36}$/);
    await page.unroute('**/v1/reports');
    droppingConnection = false;
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    reportId = page.url().split('/').pop()!;
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('shows the status change live: checks passed, an inspector approves by keyboard, forwarded … rewarded', async () => {
    // Marks this document: a reload would lose it.
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 1;
    });
    const badge = page.getByTestId('report-status').locator('[data-status]');
    await expect.poll(() => badge.getAttribute('data-status'), { timeout: 30_000 }).toBe('awaiting_review');
    await shot('report-awaiting-review');

    // Every status the badge shows from now on, as the page shows it (not sampled: nothing can slip between polls).
    await page.evaluate(() => {
      const w = window as unknown as { statuses: string[] };
      w.statuses = [];
      const host = document.querySelector('[data-testid="report-status"]')!;
      const note = () => {
        const s = host.querySelector('[data-status]')?.getAttribute('data-status');
        if (s && w.statuses.at(-1) !== s) w.statuses.push(s);
      };
      new MutationObserver(note).observe(host, { subtree: true, childList: true, attributes: true });
      note();
    });

    // An inspector, in a browser of their own, takes the report from the queue and approves it by keyboard alone.
    const { context: staffContext, page: inspector } = await openPage(
      browser,
      { viewport: { width: 1280, height: 900 }, locale: 'en-GB' },
      problems,
      { label: 'inspector' },
    );
    await inspector.goto(`${stack.url}/inspector`);
    await inspector.waitForURL(/\/staff\/sign-in\?next=%2Finspector$/);
    await signInStaff(inspector, stack.accounts.get('inspector')!, 'enter');
    await inspector.locator(`tr[data-report="${reportId}"]`).waitFor();
    await inspector.keyboard.press('t');
    await inspector.waitForURL(`**/inspector/review/${reportId}`);
    await inspector.locator('[data-testid="lease"][data-holding="true"]').waitFor();
    expect(await inspector.locator('.thumbs button').count()).toBe(2);
    await screenshot(inspector, 'inspector-review');
    await inspector.keyboard.press('a');
    await inspector.waitForURL(/\/inspector$/);
    await expect
      .poll(() => inspector.getByTestId('queue-note').textContent())
      .toMatch(/^Approved: 01 A 777 AA\./);
    await staffContext.close();

    // Forwarded to the registry simulator, fined, paid, rewarded — each heard on the live stream.
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          const s = (await badge.getAttribute('data-status')) ?? '';
          seen.add(s);
          return s;
        },
        { timeout: 45_000, interval: 100 },
      )
      .toBe('rewarded');
    const statuses = await page.evaluate(() => (window as unknown as { statuses: string[] }).statuses);
    // `forwarded` appears on its own (the registry fines two seconds later), as does each step after it.
    expect(statuses).toEqual(expect.arrayContaining(['forwarded', 'fined', 'paid', 'rewarded']));
    expect(statuses.indexOf('forwarded')).toBeLessThan(statuses.indexOf('fined'));
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
    await expect.poll(() => page.getByTestId('timeline').locator('li').count()).toBeGreaterThanOrEqual(8);
    await page.getByText('The timeline is intact').waitFor();
    await shot('report-rewarded');
  }, 120_000);

  it('lists the report and the reward', async () => {
    await page.getByRole('link', { name: 'My reports', exact: true }).click();
    const card = page.locator(`[data-report="${reportId}"]`);
    await expect(card.locator('[data-status]').getAttribute('data-status')).resolves.toBe('rewarded');
    await expect(card.textContent()).resolves.toContain('01 A 777 AA');
    // The retried submission filed one report, not two.
    expect(await page.locator('[data-report]').count()).toBe(1);
    expect(await fitsWidth()).toBe(true);
    await shot('my-reports');

    await page.getByRole('link', { name: 'Rewards' }).click();
    await page.getByText('For report').first().waitFor();
    await expect(page.locator('.totals').textContent()).resolves.toMatch(/[1-9]/);
    await shot('rewards');
  });

  it('continues an upload after a page reload instead of sending the file again (tus)', async () => {
    // A photo of ~10 MB (noise does not compress): two 5 MiB chunks and a little more.
    const raw = randomBytes(2400 * 1800 * 3);
    const big = path.join(stack.dataDir, 'big-photo.jpg');
    await writeFile(
      big,
      await sharp(raw, { raw: { width: 2400, height: 1800, channels: 3 } })
        .jpeg({ quality: 100 })
        .toBuffer(),
    );
    await page.getByRole('link', { name: 'File a report' }).first().click();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 4 * 1024 * 1024,
    });
    const firstChunk = page.waitForResponse(
      (r) => r.request().method() === 'PATCH' && r.url().includes('/v1/tus/') && r.status() === 204,
      { timeout: 30_000 },
    );
    await page.getByTestId('evidence-input').setInputFiles(big);
    const upload = new URL((await firstChunk).url()).pathname;
    // The tab is reloaded mid-upload; the citizen picks the same file again.
    await page.reload();
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/v1/tus')) asked.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    await page.getByTestId('evidence-input').setInputFiles(big);
    await page.getByTestId('upload-done').waitFor({ timeout: 60_000 });
    // It asked where the upload stood and sent only the rest: no second upload was created.
    expect(asked).toContain(`HEAD ${upload}`);
    expect(asked.filter((r) => r.startsWith('POST'))).toEqual([]);
    expect(asked.filter((r) => r === `PATCH ${upload}`).length).toBeLessThanOrEqual(2);
  }, 120_000);

  it('draws the public statistics on the real boundaries: all 14 regions', async () => {
    await page.getByRole('link', { name: 'Statistics' }).click();
    const regions = page.locator('[data-testid="choropleth"] path[data-area]');
    await expect.poll(() => regions.count(), { timeout: 15_000 }).toBe(14);
    await page.locator('.chart polyline').first().waitFor();
    const csv = await page.getByTestId('open-data').getAttribute('href');
    expect(csv).toMatch(/^\/v1\/open-data\/reports\.csv\?from=/);
    expect((await fetch(`${stack.url}${csv}`)).status).toBe(200);
    await shot('stats');
    await page.getByLabel('Areas').selectOption('district');
    await expect.poll(() => regions.count(), { timeout: 15_000 }).toBeGreaterThan(100);
    await shot('stats-districts');
  });

  it('switches language and remembers it', async () => {
    await page.getByTestId('language').selectOption('uz');
    await page.getByRole('link', { name: 'Xabar yuborish' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Statistika' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('uz');
    await page.getByTestId('language').selectOption('ru');
    await page.getByRole('heading', { name: 'Статистика' }).waitFor();
    await shot('stats-ru');
  });

  it('fits a 360 px wide screen on every page', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    for (const p of [
      '/',
      '/rules',
      '/report/new',
      '/reports',
      `/reports/${reportId}`,
      '/rewards',
      '/stats',
    ]) {
      await page.goto(`${stack.url}${p}`);
      await page.locator('h1').first().waitFor();
      // The map and the statistics arrive after the page: measure once they are drawn.
      if (p === '/report/new' || p === '/stats')
        await page.locator('svg[role="application"]').first().waitFor();
      expect(await fitsWidth(), p).toBe(true);
      await shot(`360${p === '/' ? '-home' : p.replaceAll('/', '-').replace(reportId, 'id')}`);
    }
  });

  it('logged no errors or warnings in the console', () => {
    expect(problems).toEqual([]);
  });
});
