import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { WEB_DIST } from '../src/web/static.js';
import {
  demoAccounts,
  ensureWebBuild,
  launchChromium,
  signedInContext,
  staffSession,
} from '../test/web/browser.js';
import { table } from './lib/open-loop.js';
import { signInCitizen, startServer, stopServer } from './lib/server.js';

interface PageSpec {
  name: string;
  path: string;
  /** Served by a bare HTTP server instead of the app: the browser's own floor. */
  bare?: boolean;
  /** Shown once the page is usable: its data loaded and its main controls rendered (every selector visible). */
  ready: string[];
  citizen?: boolean;
  /** Opened by a signed-in administrator (every staff console admits them). */
  staff?: boolean;
}

const PAGES: PageSpec[] = [
  // A page with one heading and no script, from a bare Node HTTP server: what a cold tab costs before any app code.
  { name: 'floor: no script', path: '/', ready: ['main h1'], bare: true },
  { name: 'home', path: '/', ready: ['main h1'] },
  { name: 'sign-in', path: '/signin', ready: ['main input[type="tel"], main input[inputmode="tel"]'] },
  { name: 'filing rules', path: '/rules', ready: ['main h1'] },
  {
    name: 'new report',
    path: '/report/new',
    // The violation list (from the API) and the map's outlines.
    ready: ['[data-testid="violations"] input', 'form svg path'],
    citizen: true,
  },
  {
    name: 'my reports',
    path: '/reports',
    ready: ['[data-testid="my-reports"], [data-testid="my-reports-empty"]'],
    citizen: true,
  },
  // The map with its outlines and the trend chart.
  { name: 'statistics', path: '/stats', ready: ['main svg path', '[data-testid="trend"]'] },
  {
    name: 'inspector queue',
    path: '/inspector',
    ready: ['[data-testid="queue"], [data-testid="queue-empty"]'],
    staff: true,
  },
  { name: 'operator dashboard', path: '/ops', ready: ['[data-testid="submissions-total"]'], staff: true },
];

/**
 * `npm run bench -- web`: each main page opened `runs` times in headless Chromium with an empty cache against
 * `jarima start` on localhost: first contentful paint, time until the page is usable (its main element rendered
 * with its data), bytes transferred (compressed, API calls included) and JavaScript transferred; then the size of
 * the JavaScript every page loads first, from the build itself.
 */
export async function webBench(o: { runs: number }): Promise<void> {
  console.log(`web build: ${await ensureWebBuild()}`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'jarima-bench-web-'));
  // The demo staff accounts exist only after `seed --demo`, which must run before the first start.
  await promisify(execFile)(process.execPath, ['bin/jarima.mjs', 'seed', '--demo'], {
    env: { ...process.env, JARIMA_DATA_DIR: tmp, LOG_LEVEL: 'warn' },
  });
  const { url, proc } = await startServer({ JARIMA_DATA_DIR: tmp, PORT: '0', LOG_LEVEL: 'warn' });
  const bare = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>floor</title><main><h1>Jarima</h1></main></html>');
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  const browser = await launchChromium();
  try {
    const session = await signInCitizen(url, '+998900000077');
    // The demo administrator (every staff console admits them).
    const admin = (await demoAccounts(tmp)).get('admin')!;
    const staff = await staffSession(url, admin, 'admin');
    const rows: (string | number)[][] = [];
    for (const page of PAGES) {
      const fcp: number[] = [];
      const ready: number[] = [];
      const bytes: number[] = [];
      const js: number[] = [];
      for (let i = 0; i < o.runs; i++) {
        // A returning citizen (signed in, the filing rules already read) or a signed-in administrator.
        const context = await signedInContext(browser, {
          ...(page.citizen ? { citizen: session } : {}),
          ...(page.staff ? { staff } : {}),
        });
        // The moment the page became usable is taken inside the page, by a MutationObserver from the first
        // document on: a check from here (a selector poll and a round trip to read the clock) added ~200 ms.
        await context.addInitScript(readyProbe(page.ready));
        const tab = await context.newPage();
        await tab.goto((page.bare ? bareUrl : url) + page.path, { waitUntil: 'commit' });
        await tab
          .waitForFunction(() => (window as { __usableAt?: number }).__usableAt !== undefined, undefined, {
            timeout: 15_000,
          })
          .catch(async (err: Error) => {
            const text = (
              (await tab
                .locator('main')
                .textContent()
                .catch(() => '')) ?? ''
            ).slice(0, 300);
            throw new Error(`${page.name}: ${err.message.split('\n')[0]}; the page says: ${text}`);
          });
        // The first contentful paint is recorded a frame or two after the content is there.
        await tab
          .waitForFunction(
            () => performance.getEntriesByName('first-contentful-paint').length > 0,
            undefined,
            {
              timeout: 5_000,
            },
          )
          .catch(() => {});
        const m = await tab.evaluate(() => {
          const paint = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN;
          const entries = [
            ...performance.getEntriesByType('navigation'),
            ...performance.getEntriesByType('resource'),
          ] as PerformanceResourceTiming[];
          return {
            ready: (window as { __usableAt?: number }).__usableAt!,
            paint,
            bytes: entries.reduce((a, e) => a + (e.transferSize || 0), 0),
            js: entries.filter((e) => e.name.endsWith('.js')).reduce((a, e) => a + (e.transferSize || 0), 0),
          };
        });
        fcp.push(m.paint);
        ready.push(m.ready);
        bytes.push(m.bytes);
        js.push(m.js);
        await context.close();
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      rows.push([
        page.name,
        med(fcp).toFixed(0),
        med(ready).toFixed(0),
        (med(bytes) / 1024).toFixed(1),
        (med(js) / 1024).toFixed(1),
      ]);
    }
    console.log(
      `\nmedian of ${o.runs} cold loads per page (Chromium headless, localhost, no throttling):\n${table(
        ['page', 'first paint ms', 'usable ms', 'transferred kB', 'of it JS kB'],
        rows,
      )}`,
    );
    console.log(`\n${initialJs()}`);
  } finally {
    await browser.close();
    bare.close();
    await stopServer(proc);
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Runs in the page before its own scripts: records `performance.now()` at the first DOM change after which every
 * selector matches an element rendered with a size (visible), in `window.__usableAt`. Given as source text: tsx
 * would wrap a function's inner functions in a helper the page does not have.
 */
function readyProbe(selectors: string[]): string {
  return `(() => {
    const selectors = ${JSON.stringify(selectors)};
    const shown = (s) => {
      const box = document.querySelector(s)?.getBoundingClientRect();
      return box !== undefined && (box.width > 0 || box.height > 0);
    };
    const observer = new MutationObserver(() => {
      if (window.__usableAt === undefined && selectors.every(shown)) {
        window.__usableAt = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document, { childList: true, subtree: true, attributes: true });
  })();`;
}

/** The JavaScript index.html loads before anything else (its entry and module preloads), as built and compressed. */
function initialJs(): string {
  const html = readFileSync(path.join(WEB_DIST, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
  const size = (f: string, ext: string) => {
    try {
      return statSync(path.join(WEB_DIST, f + ext)).size;
    } catch {
      return Number.NaN;
    }
  };
  const raw = files.reduce((a, f) => a + size(f, ''), 0);
  const br = files.reduce((a, f) => a + size(f, '.br'), 0);
  const gz = files.reduce((a, f) => a + size(f, '.gz'), 0);
  const all = readdirSync(path.join(WEB_DIST, 'assets')).filter((f) => f.endsWith('.js')).length;
  return (
    `initial JavaScript (${files.length} of ${all} chunks, what every page loads first): ${(raw / 1024).toFixed(1)} kB, ` +
    `${(gz / 1024).toFixed(1)} kB gzip, ${(br / 1024).toFixed(1)} kB brotli (target < 200 kB compressed)`
  );
}
