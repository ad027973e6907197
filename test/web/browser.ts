import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Fastify from 'fastify';
import { WEB_DIST, webRoutes } from '../../src/web/static.js';

/**
 * Helpers for the browser tests: Debian's Chromium (or skip), an up-to-date web build, and the URL that serves
 * the web app next to a running `jarima start`.
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

const ROOT = path.resolve(import.meta.dirname, '../..');

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
  const sources = [
    'web/src',
    'web/index.html',
    'web/public',
    'web/vite.config.ts',
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

const API_PATH = /^\/(v1(\/|$)|docs(\/|$)|metrics$|healthz$|readyz$)/;

function pass(req: http.IncomingMessage, res: http.ServerResponse, target: URL) {
  const upstream = http.request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

export interface WebFront {
  url: string;
  /** 'jarima': the process serves the app itself (webRoutes is wired); 'front': a stand-in in this process. */
  via: 'jarima' | 'front';
  close(): Promise<void>;
}

/**
 * The address to open in the browser. When the running jarima serves the web app, that is its own URL. Until
 * `webRoutes` is wired into src/app/http.ts, a stand-in front serves web/dist through the same `webRoutes` and
 * passes API paths through to jarima byte for byte (streams included), so the browser sees one origin either way.
 */
export async function webFront(apiUrl: string): Promise<WebFront> {
  const home = await fetch(`${apiUrl}/`);
  if (
    (home.headers.get('content-type') ?? '').startsWith('text/html') &&
    (await home.text()).includes('id="root"')
  ) {
    return { url: apiUrl, via: 'jarima', close: async () => {} };
  }
  const web = Fastify();
  webRoutes(web, { dir: WEB_DIST });
  const webUrl = await web.listen({ host: '127.0.0.1', port: 0 });
  const api = new URL(apiUrl);
  const site = new URL(webUrl);
  const server = http.createServer((req, res) => pass(req, res, API_PATH.test(req.url ?? '/') ? api : site));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    via: 'front',
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await web.close();
    },
  };
}
