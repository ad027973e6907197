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
 * The staff consoles in a real browser against a real `jarima start` (fresh database, pipeline workers,
 * simulators): an inspector signs in, filters the queue, takes a report with a photo and a video, steps the video
 * frame by frame, and decides three reports by keyboard alone — approve, reject with a reason, ask for more — each
 * next report loading at once; Esc returns one to the queue. An administrator's dashboard shows the counts move,
 * draws its charts, and retries and discards dead letters. Screenshots go to test/web/artifacts/staff-*.png.
 */
const PHONE = '+998 90 111 22 33';
const FRAME = 1 / 30;
const run = chromiumAvailable();

let stack: WebStack;
let browser: Browser;
let page: Page;
let citizen: string;
const problems: string[] = [];
/** While the test signs in with a wrong password on purpose, the browser's note of the 401 is expected. */
let expectingRefusal = false;
/** Reports filed by the citizen: plate → id. */
const reports = new Map<string, string>();
let videoCode = '';

const api = () => client(stack.url);

const shot = (name: string) => screenshot(page, `staff-${name}`);

/** The page has no horizontal scrollbar at the current width: '' when it fits, else the outermost elements that stick out. */
async function overflow(): Promise<string> {
  return page.evaluate(() => {
    const width = window.innerWidth;
    if (document.documentElement.scrollWidth <= width) return '';
    const out: string[] = [];
    for (const el of document.querySelectorAll<Element>('body *')) {
      const parent = el.parentElement;
      if (el.getBoundingClientRect().right <= width + 1) continue;
      if (parent && parent.getBoundingClientRect().right > width + 1) continue;
      // Inside a region that scrolls sideways on its own (a wide table), sticking out is what it is for.
      if (parent && ['auto', 'scroll', 'hidden'].includes(getComputedStyle(parent).overflowX)) continue;
      out.push(
        `${el.tagName.toLowerCase()}.${el.getAttribute('class') ?? ''} right=${Math.round(el.getBoundingClientRect().right)}`,
      );
    }
    return out.slice(0, 8).join('; ') || `scrollWidth ${document.documentElement.scrollWidth}`;
  });
}

/** Form controls and buttons without an accessible name (WCAG 4.1.2): none may be. */
async function unnamed(): Promise<string[]> {
  return page.evaluate(() =>
    [
      ...document.querySelectorAll<HTMLElement>(
        'main input, main select, main textarea, main button, main a[href]',
      ),
    ]
      .filter((el) => {
        const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label');
        const img = el.querySelector('img[alt]')?.getAttribute('alt');
        return !labelled && !el.textContent?.trim() && !img && !el.getAttribute('title');
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
}

async function upload(file: Buffer, name: string, type: string): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(file)], { type }), name);
  const res = await fetch(`${stack.url}/v1/evidence`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${citizen}` },
  });
  expect(res.status).toBeLessThan(300);
  return ((await res.json()) as { id: string }).id;
}

/** Files a report as the citizen and waits until it is through the automated checks, in the review queue. */
async function fileReport(plate: string, evidenceIds: string[], violationCode = '128-4.2'): Promise<string> {
  const r = await api().call(
    'POST',
    '/v1/reports',
    validReport(evidenceIds[0]!, { plate, evidenceIds, violationCode }),
    citizen,
  );
  expect(r.status).toBe(202);
  const settled = await api().settled(r.body.id, citizen);
  expect(settled.status).toBe('awaiting_review');
  reports.set(plate, r.body.id);
  return r.body.id;
}

async function statusOf(id: string): Promise<{ status: string; rejection: { code: string } | null }> {
  return (await api().call('GET', `/v1/reports/${id}`, undefined, citizen)).body;
}

const signIn = (role: string) => signInStaff(page, stack.accounts.get(role)!);

/** A dead job as graphile-worker leaves one: out of attempts, not locked (not due, so no worker runs it first). */
async function deadJob(error: string): Promise<string> {
  const { rows } = await stack.db.pool.query<{ id: string }>(
    `select id::text from graphile_worker.add_job('validate', '{}'::json, run_at := now() + interval '1 day', max_attempts := 1)`,
  );
  const id = rows[0]!.id;
  await stack.db.pool.query(
    'update graphile_worker._private_jobs set attempts = 1, last_error = $2 where id = $1',
    [id, error],
  );
  return id;
}

const reviewId = () => /\/inspector\/review\/([0-9a-f-]{36})$/.exec(page.url())?.[1] ?? null;

describe.skipIf(!run)('the staff consoles in Chromium: an inspector and an operator', () => {
  beforeAll(async () => {
    stack = await startWebStack({
      name: 'staff',
      database: createTestDatabase(),
      // Points of the operator's series every 2 s instead of every minute, so the charts have lines to draw.
      env: { OPS_POINT_SECONDS: '2' },
    });
    expect([...stack.accounts.keys()]).toEqual(expect.arrayContaining(['inspector', 'admin']));

    // A citizen files three reports: one with a photo and a video (under another violation, so the queue's filter
    // can pick it out), two with a photo each.
    citizen = await api().signIn(PHONE);
    const types = (await api().call('GET', '/v1/violation-types?active=true')).body.items as {
      code: string;
    }[];
    videoCode = types.find((t) => t.code !== '128-4.2')!.code;
    const video = await upload(
      await makeVideo({ width: 1280, height: 720, seconds: 3, fps: 30, format: 'webm' }),
      'dashcam.webm',
      'video/webm',
    );
    const photo = await api().upload(citizen);
    await fileReport('01 A 111 AA', [video, photo], videoCode);
    await fileReport('01 B 222 BC', [await api().upload(citizen)]);
    await fileReport('01 D 333 DE', [await api().upload(citizen)]);

    browser = await launchChromium();
    ({ page } = await openPage(
      browser,
      { viewport: { width: 1280, height: 900 }, locale: 'en-GB' },
      problems,
      {
        expected: (text) => expectingRefusal && text.includes('401'),
      },
    ));
    // The language is remembered in localStorage: start in English whatever another test left.
    await page.addInitScript(() => {
      if (!localStorage.getItem('jarima.lang')) localStorage.setItem('jarima.lang', 'en');
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('sends a signed-out inspector to the staff sign-in, refuses a wrong password, then signs in', async () => {
    await page.goto(`${stack.url}/inspector`);
    await page.waitForURL(/\/staff\/sign-in\?next=%2Finspector$/);
    await page.getByRole('heading', { name: 'Staff sign-in' }).waitFor();
    await shot('signin');

    expectingRefusal = true;
    await page.getByLabel('Login').fill(stack.accounts.get('inspector')!.login);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').getByText('Wrong login or password.').waitFor();
    expectingRefusal = false;

    await signIn('inspector');
    await page.waitForURL(/\/inspector$/);
    await page.getByRole('heading', { name: 'Review queue' }).waitFor();
    // The staff token is kept for the tab, under its own key: never in localStorage, never the citizen's session.
    const storage = await page.evaluate(() => ({
      staff: sessionStorage.getItem('jarima.staff') ?? '',
      citizen: sessionStorage.getItem('jarima.session'),
      local: JSON.stringify(localStorage),
    }));
    expect(storage.staff).toContain('"role":"inspector"');
    expect(storage.citizen).toBeNull();
    expect(storage.local).not.toContain('token');
  });

  it('shows the queue: priority, a live deadline countdown, who holds each, thumbnails', async () => {
    const rows = page.locator('[data-testid="queue"] tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    for (const id of reports.values()) await page.locator(`tr[data-report="${id}"]`).waitFor();
    const countdown = rows.first().getByTestId('countdown');
    const before = await countdown.textContent();
    expect(before).toMatch(/\d+:\d{2}.*left/);
    await expect.poll(() => countdown.textContent(), { timeout: 5000 }).not.toBe(before);
    await expect(rows.first().locator('.holder').textContent()).resolves.toBe('Free');
    // Thumbnails come with the staff token, as blobs.
    await expect
      .poll(() =>
        page.evaluate(
          () =>
            [...document.querySelectorAll<HTMLImageElement>('img.queue-thumb')].filter(
              (i) => i.src.startsWith('blob:') && i.naturalWidth > 0,
            ).length,
        ),
      )
      .toBe(3);
    expect(await unnamed()).toEqual([]);
    await shot('queue');

    // An inspector may not open the operator dashboard.
    await page.goto(`${stack.url}/ops`);
    await page.getByRole('heading', { name: 'Not available for your role' }).waitFor();
    await page.goto(`${stack.url}/inspector`);
    await rows.first().waitFor();
  });

  it('takes the filtered report and reviews its video frame by frame and its photo, by keyboard', async () => {
    const id = reports.get('01 A 111 AA')!;
    await page.getByLabel('Violation').selectOption(videoCode);
    await page.waitForURL(new RegExp(`violation=${videoCode.replace('.', '\\.')}`));
    await expect.poll(() => page.locator('[data-testid="queue"] tbody tr').count()).toBe(1);

    await page.keyboard.press('t');
    await page.waitForURL(`**/inspector/review/${id}`);
    await page.locator('[data-testid="lease"][data-holding="true"]').waitFor();
    await page.getByText('You hold this report for').waitFor();

    // Find the video among the files (J moves through them) and play it from its blob.
    const stage = page.getByTestId('evidence-stage');
    for (let i = 0; i < 2 && (await stage.getAttribute('data-kind')) !== 'video'; i++)
      await page.keyboard.press('j');
    expect(await stage.getAttribute('data-kind')).toBe('video');
    const video = page.getByTestId('video');
    await video.waitFor({ timeout: 30_000 });
    expect(await video.getAttribute('src')).toMatch(/^blob:/);
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(2);
    expect(await video.evaluate((v: HTMLVideoElement) => v.duration)).toBeCloseTo(3, 0);

    // Space plays and pauses.
    await page.keyboard.press('Space');
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.paused)).toBe(false);
    await page.waitForTimeout(400);
    await page.keyboard.press('Space');
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.paused)).toBe(true);
    const t0 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
    expect(t0).toBeGreaterThan(0);

    // → and ← step one frame (1/30 s) while paused; Shift steps a second.
    const time = () => video.evaluate((v: HTMLVideoElement) => v.currentTime);
    await page.keyboard.press('ArrowRight');
    await expect.poll(time).toBeCloseTo(t0 + FRAME, 3);
    await page.keyboard.press('ArrowRight');
    await expect.poll(time).toBeCloseTo(t0 + 2 * FRAME, 3);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(time).toBeCloseTo(t0 + FRAME, 3);
    await page.keyboard.press('Shift+ArrowLeft');
    await expect.poll(time).toBeCloseTo(Math.max(0, t0 + FRAME - 1), 3);
    await expect
      .poll(() => page.getByTestId('video-time').getAttribute('data-seconds'))
      .toMatch(/^\d+\.\d{3}$/);
    await page.getByRole('heading', { name: 'Automated findings' }).waitFor();
    await page.getByRole('heading', { name: 'Related reports' }).waitFor();
    await shot('review-video');

    // J moves to the photo: shown from its blob; the thumbnails strip lists both files.
    await page.keyboard.press('j');
    const photo = page.getByTestId('photo');
    await expect
      .poll(() => photo.evaluate((i: HTMLImageElement) => i.naturalWidth), { timeout: 15_000 })
      .toBe(1280);
    expect(await page.locator('.thumbs button').count()).toBe(2);
    await shot('review-photo');

    // A approves; no other report passes the filter, so the queue says so.
    await page.keyboard.press('a');
    await page.waitForURL(/\/inspector\?violation=/);
    await expect
      .poll(() => page.getByTestId('queue-note').textContent())
      .toBe('Approved: 01 A 111 AA. No other report is free to take.');
    await expect
      .poll(async () => (await statusOf(id)).status)
      .toMatch(/^(approved|forwarded|fined|paid|rewarded)$/);
  });

  it('rejects with a reason, then asks for more — each next report loading at once', async () => {
    await page.getByLabel('Violation').selectOption('');
    await expect.poll(() => page.locator('[data-testid="queue"] tbody tr').count()).toBe(2);
    await page.keyboard.press('t');
    await page.waitForURL(/\/inspector\/review\//);
    const first = reviewId()!;

    await page.keyboard.press('r');
    const panel = page.getByTestId('reject-panel');
    await panel.waitFor();
    expect(await unnamed()).toEqual([]);
    await shot('review-reject');
    await page.keyboard.press('2');
    await expect.poll(() => panel.locator('input[value="PLATE_NOT_READABLE"]').isChecked()).toBe(true);
    await page.keyboard.press('Enter');
    // The next report replaces this one at once, and says what was decided.
    await expect.poll(reviewId).not.toBe(first);
    const second = reviewId()!;
    expect([...reports.values()]).toContain(second);
    await expect.poll(() => page.getByTestId('announce').textContent()).toMatch(/^Rejected: 01 [BD] /);
    await page.locator('[data-testid="lease"][data-holding="true"]').waitFor();

    await page.keyboard.press('n');
    const note = page.getByLabel('What should the citizen add?');
    await expect.poll(() => note.evaluate((e) => e === document.activeElement)).toBe(true);
    await note.fill('Please add a photo where the plate can be read.');
    await page.keyboard.press('Control+Enter');
    await page.waitForURL(/\/inspector$/);
    await expect
      .poll(() => page.getByTestId('queue-note').textContent())
      .toMatch(/^Asked for more information: 01 [BD] .* No other report is free to take\.$/);
    await page.getByTestId('queue-empty').waitFor();

    const a = await statusOf(first);
    expect(a.status).toBe('rejected');
    expect(a.rejection?.code).toBe('PLATE_NOT_READABLE');
    expect((await statusOf(second)).status).toBe('needs_info');
  });

  it('Esc returns a report to the queue undecided', async () => {
    const id = await fileReport('01 E 444 EA', [await api().upload(citizen)]);
    await page.getByRole('button', { name: /^Refresh/ }).click();
    await page.locator(`tr[data-report="${id}"]`).waitFor();
    await page.keyboard.press('t');
    await page.waitForURL(`**/inspector/review/${id}`);
    await page.locator('[data-testid="lease"][data-holding="true"]').waitFor();
    await page.keyboard.press('Escape');
    await page.waitForURL(/\/inspector$/);
    await expect
      .poll(() => page.getByTestId('queue-note').textContent())
      .toBe('01 E 444 EA is back in the queue.');
    await expect.poll(() => page.locator(`tr[data-report="${id}"] .holder`).textContent()).toBe('Free');
    expect((await statusOf(id)).status).toBe('awaiting_review');
  });

  it('shows an administrator the dashboard: counts move, charts drawn, breakers, alerts', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/staff\/sign-in$/);
    await page.goto(`${stack.url}/ops`);
    await page.waitForURL(/\/staff\/sign-in\?next=%2Fops$/);
    await signIn('admin');
    await page.waitForURL(/\/ops$/);
    await page.getByRole('heading', { name: 'Operations' }).waitFor();

    const total = page.getByTestId('submissions-total');
    await total.waitFor();
    const before = Number(await total.textContent());
    expect(before).toBeGreaterThanOrEqual(4);
    const validated = Number(await page.getByTestId('completed-validate').textContent());

    await fileReport('01 F 555 FA', [await api().upload(citizen)]);
    await page.getByTestId('refresh').click();
    await expect.poll(async () => Number(await total.textContent()), { timeout: 15_000 }).toBe(before + 1);
    await expect
      .poll(async () => Number(await page.getByTestId('completed-validate').textContent()), {
        timeout: 15_000,
      })
      .toBeGreaterThan(validated);

    // The series (a point every 2 s here) draws lines: submissions, latency percentiles, errors, requests.
    await expect
      .poll(
        async () => {
          await page.getByTestId('refresh').click();
          return Number(await page.getByTestId('chart-latency').getAttribute('data-points'));
        },
        { timeout: 20_000, interval: 1000 },
      )
      .toBeGreaterThan(0);
    // uPlot draws on a canvas: the p50 line's colour is on it.
    await expect
      .poll(() =>
        page.getByTestId('chart-latency').evaluate((figure) => {
          const canvas = figure.querySelector('canvas');
          const ctx = canvas?.getContext('2d');
          if (!canvas || !ctx) return 0;
          const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          // #0b5cab, the first series' stroke, give or take antialiasing.
          for (let i = 0; i < px.length; i += 4)
            if (
              Math.abs(px[i]! - 11) < 24 &&
              Math.abs(px[i + 1]! - 92) < 24 &&
              Math.abs(px[i + 2]! - 171) < 24
            )
              n++;
          return n;
        }),
      )
      .toBeGreaterThan(20);
    for (const chart of [
      'chart-submissions',
      'chart-errors',
      'chart-requests',
      'chart-depth',
      'chart-oldest',
      'chart-workers',
      'chart-cache',
    ])
      expect(await page.locator(`[data-testid="${chart}"] [role="img"] canvas`).count()).toBe(1);
    expect(await page.locator('[data-testid="stages"] tbody tr').count()).toBe(7);
    await page.locator('[data-testid="stages"] .sparkline polyline').first().waitFor({ state: 'attached' });
    await page.getByRole('heading', { name: 'Circuit breakers' }).waitFor();
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    expect(await unnamed()).toEqual([]);
    await shot('ops');
  });

  it('lists dead letters and retries and discards them', async () => {
    await page.getByTestId('dlq-empty').waitFor();
    const retried = await deadJob('registry down for an hour');
    const discarded = await deadJob('poison payload');
    await page.getByTestId('refresh').click();
    const row = (id: string) => page.locator(`tr[data-dead="job:${id}"]`);
    await row(retried).waitFor();
    await row(discarded).waitFor();
    await expect(row(retried).textContent()).resolves.toContain('registry down for an hour');
    await shot('ops-dlq');

    await page.getByRole('button', { name: `Retry job:${retried}`, exact: true }).click();
    await expect
      .poll(() => page.getByTestId('dlq-done').textContent())
      .toBe(`job:${retried} sent back to run again.`);
    await row(retried).waitFor({ state: 'detached' });

    // Discarding asks once more, with the second button focused.
    await page.getByRole('button', { name: `Discard job:${discarded}`, exact: true }).click();
    const confirm = page.getByRole('button', { name: `Discard for good job:${discarded}`, exact: true });
    await expect.poll(() => confirm.evaluate((e) => e === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await row(discarded).waitFor({ state: 'detached' });
    await expect.poll(() => page.getByTestId('dlq-done').textContent()).toBe(`job:${discarded} discarded.`);
    const left = await stack.db.pool.query('select 1 from graphile_worker.jobs where id = $1', [discarded]);
    expect(left.rowCount).toBe(0);
  });

  it('speaks Uzbek and Russian', async () => {
    await page.getByTestId('language').selectOption('uz');
    await page.getByRole('heading', { name: 'Ekspluatatsiya' }).waitFor();
    await page.getByRole('heading', { name: 'Bajarilmagan vazifalar' }).waitFor();
    await page.getByTestId('language').selectOption('ru');
    await page.getByRole('heading', { name: 'Эксплуатация' }).waitFor();
    await page.getByRole('link', { name: 'Очередь проверки' }).click();
    await page.getByRole('heading', { name: 'Очередь проверки' }).waitFor();
    await shot('queue-ru');
    await page.getByTestId('language').selectOption('en');
  });

  it('fits a 360 px wide screen', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    const held = reports.get('01 E 444 EA')!;
    for (const p of ['/ops', '/inspector', `/inspector/review/${held}`]) {
      await page.goto(`${stack.url}${p}`);
      await page.locator('h1').first().waitFor();
      if (p === '/ops') await page.getByTestId('tiles').waitFor();
      if (p === '/inspector') await page.getByTestId('queue').waitFor();
      if (p.startsWith('/inspector/review')) await page.getByTestId('photo').waitFor();
      expect(await overflow(), p).toBe('');
      await shot(`360${p.replaceAll('/', '-').replace(held, 'id')}`);
    }
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Staff sign-in' }).waitFor();
    expect(await overflow(), '/staff/sign-in').toBe('');
    await shot('360-signin');
  });

  it('logged no errors or warnings in the console', () => {
    expect(problems).toEqual([]);
  });
});
