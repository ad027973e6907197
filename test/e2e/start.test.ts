import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../helpers/media.js';

/**
 * The README's quick start, for real: `jarima start` with no configuration (embedded PostgreSQL in a fresh data
 * directory), then a citizen's whole path over HTTP, then SIGTERM.
 */
let child: ChildProcess;
let url: string;
let output = '';
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'jarima-e2e-'));
  const env: NodeJS.ProcessEnv = { ...process.env, JARIMA_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.JARIMA_SECRET;
  child = spawn(process.execPath, ['bin/jarima.mjs', 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed in 90 s:\n${output}`)), 90_000);
    const check = () => {
      const m = /Jarima is running at (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
  });
}, 120_000);

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

async function api(method: string, p: string, body?: unknown, token?: string) {
  const res = await fetch(url + p, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  // biome-ignore lint/suspicious/noExplicitAny: the test reads many response shapes
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function waitForStatus(id: string, token: string) {
  for (let i = 0; i < 200; i++) {
    const r = await api('GET', `/v1/reports/${id}`, undefined, token);
    if (r.body.status !== 'received') return r.body;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('still received');
}

describe('npm start', () => {
  it('prints the URL, the docs, the simulator and the demo accounts', async () => {
    expect(output).toContain('/docs');
    expect(output).toMatch(/SMS gateway:\s+LOCAL SIMULATOR/);
    expect(output).toMatch(/inspector\s+login: inspector\s+password: \S+/);
    expect((await api('GET', '/readyz')).body.ok).toBe(true);
    const docs = await fetch(`${url}/docs/json`);
    expect((await docs.json()).paths['/v1/reports']).toBeDefined();
  });

  it('lets a citizen sign in through the outbox, upload, submit and see the outcome', async () => {
    const phone = '+998911234567';
    expect((await api('POST', '/v1/auth/otp', { phone })).status).toBe(202);
    const outbox = await api('GET', `/v1/dev/outbox?to=${encodeURIComponent(phone)}`);
    const code = /\b(\d{6})\b/.exec(outbox.body.messages[0].text)![1];
    const { body: session } = await api('POST', '/v1/auth/otp/verify', { phone, code });
    const token = session.token as string;

    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array(await makeJpeg(1280, 720))], { type: 'image/jpeg' }),
      'dashcam.jpg',
    );
    const up = await fetch(`${url}/v1/evidence`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(up.status).toBe(201);
    const evidence = (await up.json()) as { id: string };

    const good = {
      violationCode: '128-4.2',
      plate: '01 A 777 AA',
      lat: 41.2995,
      lon: 69.2401,
      incidentAt: new Date(Date.now() - 600_000).toISOString(),
      evidenceIds: [evidence.id],
    };
    const accepted = await api('POST', '/v1/reports', good, token);
    expect(accepted.status).toBe(202);
    expect((await waitForStatus(accepted.body.id, token)).status).toBe('awaiting_review');

    const abroad = await api('POST', '/v1/reports', { ...good, lat: 41.0082, lon: 28.9784 }, token);
    const rejected = await waitForStatus(abroad.body.id, token);
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection.code).toBe('OUTSIDE_COUNTRY');
    expect(rejected.rejection.reason.uz).toBeTruthy();

    const mine = await api('GET', '/v1/me/reports', undefined, token);
    expect(mine.body.items.map((r: { id: string }) => r.id)).toEqual([abroad.body.id, accepted.body.id]);
  });

  it('stops cleanly on SIGTERM, embedded PostgreSQL included', async () => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped.');
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  });
});
