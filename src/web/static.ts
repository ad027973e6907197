import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zlib } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build` (vite build web) writes the web app. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface WebOptions {
  /** The built web app: index.html and hashed files under assets/. */
  dir: string;
}

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = new Set([
  '.html',
  '.js',
  '.mjs',
  '.css',
  '.json',
  '.webmanifest',
  '.svg',
  '.txt',
  '.map',
]);
/** Below this a compressed body saves less than its headers cost. */
const MIN_COMPRESS_BYTES = 1024;

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The page itself is revalidated every time (a 304 by ETag), so a new build is picked up on the next load. */
const REVALIDATE = 'no-cache';

/**
 * The single-page app's policy: its own scripts, styles and API only. Inline styles set through the DOM (React's
 * `style` prop) are not affected by style-src; blob: is for the evidence preview before upload.
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that belong to the API: never answered with the app's page, so a wrong API call stays a JSON 404. */
const API_PATH = /^\/(v1(\/|$)|docs(\/|$)|metrics$|healthz$|readyz$)/;

type Encoding = 'br' | 'gzip' | 'identity';

interface Asset {
  file: string;
  type: string;
  cacheControl: string;
  compressible: boolean;
  body?: Buffer;
  etag?: string;
  /** Compressed variants: read from the build's .br/.gz siblings, or made once on first request. */
  variants: Partial<Record<'br' | 'gzip', Promise<Buffer | null>>>;
}

interface Dist {
  files: Map<string, Asset>;
  /** index.html's mtime when this listing was read: a rebuild under a running server is noticed by it. */
  indexMtimeMs: number;
}

/**
 * Serves the built web app: hashed files under /assets/ as immutable, index.html revalidated on every load,
 * compressed with brotli or gzip (precompressed at build time; otherwise compressed once and kept), and the page
 * for any other GET that is not an API path (client-side routes). Without a build, a short page says how to make
 * one. Synchronous, and no I/O until the first request.
 */
export function webRoutes(app: FastifyInstance, opts: WebOptions): void {
  const dir = path.resolve(opts.dir);
  let dist: Dist | null = null;

  /** The listing, re-read when index.html changed (or appeared) since it was taken. */
  const current = (): Dist | null => {
    const mtime = mtimeOf(path.join(dir, 'index.html'));
    if (mtime === null) {
      dist = null;
      return null;
    }
    if (!dist || dist.indexMtimeMs !== mtime) dist = { files: listFiles(dir), indexMtimeMs: mtime };
    return dist;
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const urlPath = pathOf(request.url);
    if (urlPath === null || API_PATH.test(urlPath)) return reply.callNotFound();
    // Hashed assets never change, so the listing is re-read (one stat) when the page is asked for, or for an
    // asset the listing does not have (a build made since).
    const isAsset = urlPath.startsWith('/assets/');
    let d = isAsset && dist ? dist : current();
    if (isAsset && !d?.files.has(urlPath)) d = current();
    if (!d) return notBuilt(reply);
    let asset = d.files.get(urlPath);
    if (!asset) {
      // A missing file (a stale hashed asset, a mistyped /favicon.png) is a 404, not the page: a script tag given
      // HTML fails more confusingly than one given nothing. Anything else is a route of the app itself.
      if (isAsset || path.posix.extname(urlPath) !== '') return reply.callNotFound();
      asset = d.files.get('/index.html')!;
    }
    if (asset.type.startsWith('text/html')) reply.header('content-security-policy', PAGE_CSP);
    return send(request, reply, asset);
  };

  // GET only: Fastify answers HEAD from the same handler without the body.
  app.get('/', { schema: { hide: true } }, handler);
  app.get('/*', { schema: { hide: true } }, handler);
}

function mtimeOf(file: string): number | null {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

/** Every file of the build by its URL path; .br/.gz siblings become variants of their file, not files. */
function listFiles(dir: string): Map<string, Asset> {
  const files = new Map<string, Asset>();
  const walk = (sub: string) => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.posix.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile() && !/\.(br|gz)$/.test(entry.name)) {
        const ext = path.extname(entry.name).toLowerCase();
        const file = path.join(dir, rel);
        files.set(`/${rel}`, {
          file,
          type: TYPES[ext] ?? 'application/octet-stream',
          cacheControl: rel.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
          compressible: COMPRESSIBLE.has(ext),
          variants: {},
        });
      }
    }
  };
  walk('');
  return files;
}

function load(asset: Asset): { body: Buffer; etag: string } {
  if (!asset.body || !asset.etag) {
    asset.body = readFileSync(asset.file);
    asset.etag = createHash('sha256').update(asset.body).digest('base64url').slice(0, 22);
  }
  return { body: asset.body, etag: asset.etag };
}

function variant(asset: Asset, body: Buffer, encoding: 'br' | 'gzip'): Promise<Buffer | null> {
  let v = asset.variants[encoding];
  if (!v) {
    v = (async () => {
      try {
        return readFileSync(`${asset.file}.${encoding === 'br' ? 'br' : 'gz'}`);
      } catch {
        // Not precompressed by the build: compress once, at a level that keeps a first request quick.
        const out =
          encoding === 'br'
            ? await brotli(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } })
            : await gzipAsync(body, { level: 9 });
        return out.length < body.length ? out : null;
      }
    })();
    asset.variants[encoding] = v;
  }
  return v;
}

/** The best encoding the client accepts (q > 0): brotli, then gzip, else none. */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding {
  if (!acceptEncoding) return 'identity';
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((x) => x !== undefined);
    accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return 'identity';
}

async function send(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  const { body, etag } = load(asset);
  let encoding =
    asset.compressible && body.length >= MIN_COMPRESS_BYTES
      ? chooseEncoding(request.headers['accept-encoding'])
      : 'identity';
  let payload = body;
  if (encoding !== 'identity') {
    const compressed = await variant(asset, body, encoding);
    if (compressed) payload = compressed;
    else encoding = 'identity';
  }
  const tag = `"${etag}${encoding === 'identity' ? '' : `-${encoding}`}"`;
  reply.header('content-type', asset.type).header('cache-control', asset.cacheControl).header('etag', tag);
  if (asset.compressible) reply.header('vary', 'accept-encoding');
  if (encoding !== 'identity') reply.header('content-encoding', encoding);
  const inm = request.headers['if-none-match'];
  if (inm?.split(',').some((t) => t.trim().replace(/^W\//, '') === tag)) {
    return reply.status(304).send();
  }
  return reply.status(200).send(payload);
}

function notBuilt(reply: FastifyReply) {
  return reply
    .status(200)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
    .send(
      '<!doctype html><html lang="en"><meta charset="utf-8"><title>Jarima</title>' +
        '<h1>Jarima</h1><p>The web app has not been built yet. Run <code>npm run build</code>, then reload this ' +
        'page. The API is running: see <a href="/docs">/docs</a>.</p></html>',
    );
}

/** The decoded path of a request URL, or null when it cannot be a file of ours (bad escapes, dot segments, NUL). */
function pathOf(url: string): string | null {
  const q = url.indexOf('?');
  let p: string;
  try {
    p = decodeURIComponent(q === -1 ? url : url.slice(0, q));
  } catch {
    return null;
  }
  if (p.includes('\0') || p.split('/').some((s) => s === '..' || s === '.')) return null;
  return p;
}
