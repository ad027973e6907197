import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../platform/errors/http.js';
import { chooseEncoding, webRoutes } from './static.js';

/** A built app in miniature: the page, a precompressed script, a stylesheet without siblings, a picture. */
let dir: string;
let app: FastifyInstance;
const page = `<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body>${'<p>jarima</p>'.repeat(200)}</body></html>`;
const script = `console.log(${JSON.stringify('x'.repeat(10))});\n`.repeat(300);
const style = `body { color: #111; }\n`.repeat(200);
/** The build's own brotli (quality 11), so the test can tell it was served rather than made on the fly. */
const scriptBr = brotliCompressSync(Buffer.from(script));

async function appOn(root: string): Promise<FastifyInstance> {
  const a = Fastify();
  installErrorHandler(a);
  a.get('/v1/ping', async () => ({ ok: true }));
  webRoutes(a, { dir: root });
  await a.ready();
  return a;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-web-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), page);
  await writeFile(path.join(dir, 'assets/index-abc123.js'), script);
  await writeFile(path.join(dir, 'assets/index-abc123.js.br'), scriptBr);
  await writeFile(path.join(dir, 'assets/index-def456.css'), style);
  await writeFile(path.join(dir, 'assets/logo-0a1b2c.png'), Buffer.alloc(4096, 7));
  app = await appOn(dir);
});

afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the web app: caching and compression', () => {
  it('serves the page at / revalidated on every load, compressed, with its own CSP', async () => {
    const res = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers.vary).toBe('accept-encoding');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.rawPayload.length).toBeLessThan(page.length / 5);
    expect(brotliDecompressSync(res.rawPayload).toString()).toBe(page);
  });

  it('serves hashed assets as immutable, from the build’s precompressed sibling', async () => {
    const res = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'br' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.rawPayload.equals(scriptBr)).toBe(true);
  });

  it('compresses what the build did not, once, in the encoding the client accepts', async () => {
    const gz = await app.inject({ url: '/assets/index-def456.css', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(style);

    const br = await app.inject({ url: '/assets/index-def456.css', headers: { 'accept-encoding': 'br' } });
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(style);

    const plain = await app.inject({ url: '/assets/index-def456.css' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(style);
    expect(Number(plain.headers['content-length'])).toBe(style.length);

    const refused = await app.inject({
      url: '/assets/index-def456.css',
      headers: { 'accept-encoding': 'br;q=0, gzip;q=0.5' },
    });
    expect(refused.headers['content-encoding']).toBe('gzip');
  });

  it('sends pictures as they are', async () => {
    const res = await app.inject({ url: '/assets/logo-0a1b2c.png', headers: { 'accept-encoding': 'br' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers.vary).toBeUndefined();
    expect(res.rawPayload.length).toBe(4096);
  });

  it('answers a matching If-None-Match with 304, per encoding', async () => {
    const first = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip' } });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+-gzip"$/);
    const again = await app.inject({
      url: '/',
      headers: { 'accept-encoding': 'gzip', 'if-none-match': etag },
    });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    const otherEncoding = await app.inject({ url: '/', headers: { 'if-none-match': etag } });
    expect(otherEncoding.statusCode).toBe(200);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/reports', headers: { 'accept-encoding': 'br' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.rawPayload.length).toBe(0);
  });

  it('picks encodings by q-value', () => {
    expect(chooseEncoding(undefined)).toBe('identity');
    expect(chooseEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(chooseEncoding('gzip')).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip')).toBe('gzip');
    expect(chooseEncoding('*')).toBe('br');
    expect(chooseEncoding('*;q=0, identity')).toBe('identity');
    expect(chooseEncoding('deflate')).toBe('identity');
  });
});

describe('the web app: client-side routes', () => {
  it('answers the app’s own routes with the page', async () => {
    for (const url of [
      '/reports',
      '/reports/01900000-0000-7000-8000-000000000000',
      '/stats?from=x',
      '/index.html',
    ]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(page);
      expect(res.headers['cache-control'], url).toBe('no-cache');
    }
  });

  it('leaves API paths to the API: a wrong one is still a JSON 404', async () => {
    expect((await app.inject({ url: '/v1/ping' })).json()).toEqual({ ok: true });
    for (const url of ['/v1/nope', '/v1', '/docs/nope', '/metrics', '/healthz', '/readyz']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    }
  });

  it('answers a missing file with 404, never with the page', async () => {
    for (const url of ['/assets/index-old999.js', '/favicon.ico', '/assets/']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toMatch(/^application\/json/);
    }
  });

  it('serves nothing outside the build directory', async () => {
    await writeFile(path.join(path.dirname(dir), 'jarima-web-secret.txt'), 'secret');
    for (const url of [
      '/../jarima-web-secret.txt',
      '/assets/..%2f..%2fjarima-web-secret.txt',
      '/%2e%2e/jarima-web-secret.txt',
      '/assets/%00.js',
      '/%E0%A4%A',
    ]) {
      const res = await app.inject({ url });
      expect(res.body, url).not.toContain('secret');
      // Fastify itself refuses a broken escape (400); everything else is ours to refuse.
      expect(res.statusCode, url).toBe(url === '/%E0%A4%A' ? 400 : 404);
    }
    await rm(path.join(path.dirname(dir), 'jarima-web-secret.txt'));
  });

  it('does not answer other methods', async () => {
    const res = await app.inject({ method: 'POST', url: '/reports', payload: {} });
    expect(res.statusCode).toBe(404);
  });
});

describe('the web app: builds', () => {
  it('says to run the build when there is none, and serves it once built, without a restart', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'jarima-web-none-'));
    const a = await appOn(path.join(empty, 'dist'));
    try {
      const before = await a.inject({ url: '/' });
      expect(before.statusCode).toBe(200);
      expect(before.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(before.headers['cache-control']).toBe('no-store');
      expect(before.body).toContain('npm run build');
      expect((await a.inject({ url: '/reports' })).body).toContain('npm run build');
      expect((await a.inject({ url: '/v1/nope' })).statusCode).toBe(404);

      await mkdir(path.join(empty, 'dist/assets'), { recursive: true });
      await writeFile(path.join(empty, 'dist/index.html'), '<!doctype html><p>v1</p>');
      await writeFile(path.join(empty, 'dist/assets/a-1.js'), 'one');
      expect((await a.inject({ url: '/' })).body).toBe('<!doctype html><p>v1</p>');

      // A rebuild: a new page naming new assets (its mtime moves), the old assets gone.
      await rm(path.join(empty, 'dist/assets/a-1.js'));
      await writeFile(path.join(empty, 'dist/assets/a-2.js'), 'two');
      await writeFile(path.join(empty, 'dist/index.html'), '<!doctype html><p>v2</p>');
      const later = new Date(Date.now() + 5000);
      await utimes(path.join(empty, 'dist/index.html'), later, later);
      expect((await a.inject({ url: '/' })).body).toBe('<!doctype html><p>v2</p>');
      expect((await a.inject({ url: '/assets/a-2.js' })).body).toBe('two');
      expect((await a.inject({ url: '/assets/a-1.js' })).statusCode).toBe(404);

      // An asset of a newer build asked for before its page is found too.
      await writeFile(path.join(empty, 'dist/assets/a-3.js'), 'three');
      const latest = new Date(Date.now() + 10_000);
      await utimes(path.join(empty, 'dist/index.html'), latest, latest);
      expect((await a.inject({ url: '/assets/a-3.js' })).body).toBe('three');
    } finally {
      await a.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
