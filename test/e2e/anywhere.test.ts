import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SERVER_ENV } from '../helpers/env.js';
import { client, validReport } from '../helpers/process.js';

/**
 * The quick start from a checkout in a private directory (`mktemp -d`, /root), as root: PostgreSQL then runs as the
 * `postgres` user, who cannot enter the checkout, so its cluster has to live elsewhere — with no setting, and found
 * again by the next start. Only root meets this; CI runs as root.
 */
const root = process.getuid?.() === 0;
if (!root) console.warn('test/e2e/anywhere.test.ts skipped: only root runs PostgreSQL as another user');

const repo = process.cwd();
let base: string;
let checkout: string;
let jarima: Started | null = null;
let databaseDir = '';

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
  exited: Promise<number | null>;
}

/** `node bin/jarima.mjs start` in the checkout, with none of Jarima's settings but a free port. */
async function start(): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...TEST_SERVER_ENV, PORT: '0' };
  for (const name of Object.keys(env))
    if (name.startsWith('JARIMA_') || ['DATABASE_URL', 'REDIS_URL', 'NODE_ENV'].includes(name))
      delete env[name];
  const child = spawn(process.execPath, ['bin/jarima.mjs', 'start'], {
    cwd: checkout,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in 90 s:\n${out}`)), 90_000);
    const check = () => {
      if (!out.includes('Press Ctrl-C to stop.')) return;
      clearTimeout(timer);
      resolve(out);
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`exited ${code} before its banner:\n${out}`)));
  });
  return { child, output: () => out, url: /Jarima is running at (http:\/\/\S+)/.exec(banner)![1]!, exited };
}

async function stop(p: Started): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  return p.exited;
}

beforeAll(async () => {
  if (!root) return;
  base = await mkdtemp(path.join(os.tmpdir(), 'jarima-anywhere-'));
  checkout = path.join(base, 'jarima');
  // The working tree as a clone would have it (tracked and new files), sharing this checkout's node_modules
  // instead of a slow `npm ci`; the built web app comes along when there is one.
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
  })
    .toString()
    .split('\0')
    .filter((f) => f && existsSync(path.join(repo, f)));
  for (const f of files) {
    await mkdir(path.dirname(path.join(checkout, f)), { recursive: true });
    await cp(path.join(repo, f), path.join(checkout, f));
  }
  if (existsSync(path.join(repo, 'web/dist')))
    await cp(path.join(repo, 'web/dist'), path.join(checkout, 'web/dist'), { recursive: true });
  await symlink(path.join(repo, 'node_modules'), path.join(checkout, 'node_modules'));
}, 60_000);

afterAll(async () => {
  if (!root) return;
  if (jarima) await stop(jarima);
  await rm(base, { recursive: true, force: true });
  if (databaseDir) await rm(path.dirname(databaseDir), { recursive: true, force: true });
});

describe.runIf(root)('npm start as root from a private directory', () => {
  const phone = '+998917654321';
  let token = '';
  let reportId = '';

  it('starts with no setting, its database where the postgres user can reach it, and files a report', async () => {
    expect(statSync(base).mode & 0o777).toBe(0o700);
    jarima = await start();
    const banner = /database:\s+embedded PostgreSQL \(data in (\S+), /.exec(jarima.output());
    expect(banner, jarima.output()).not.toBeNull();
    databaseDir = banner![1]!;
    expect(databaseDir.startsWith(`${base}${path.sep}`)).toBe(false);
    expect(existsSync(path.join(databaseDir, 'PG_VERSION'))).toBe(true);

    const api = client(jarima.url);
    token = await api.signIn(phone);
    const evidence = await api.upload(token);
    const filed = await api.call('POST', '/v1/reports', validReport(evidence), token);
    expect(filed.status).toBe(202);
    reportId = filed.body.id;

    // Only the database moved: the secret and the evidence stay in the checkout, whose
    // directories were left as private as they were.
    const data = path.join(checkout, '.jarima');
    expect(existsSync(path.join(data, 'secret'))).toBe(true);
    expect(existsSync(path.join(data, 'blobs'))).toBe(true);
    expect(existsSync(path.join(data, 'pg'))).toBe(false);
    expect((await readFile(path.join(data, 'pg-location'), 'utf8')).trim()).toBe(databaseDir);
    expect(statSync(base).mode & 0o777).toBe(0o700);
    expect(await stop(jarima)).toBe(0);
  }, 120_000);

  it('finds its database again when started again from the same checkout', async () => {
    jarima = await start();
    expect(jarima.output()).toContain(`data in ${databaseDir},`);
    expect(jarima.output()).not.toContain('first administrator');
    const api = client(jarima.url);
    const mine = await api.call('GET', '/v1/me/reports', undefined, token);
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((r: { id: string }) => r.id)).toEqual([reportId]);
    expect(await stop(jarima)).toBe(0);
  }, 120_000);
});
