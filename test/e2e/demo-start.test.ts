import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { client, running, spawnJarima } from '../helpers/process.js';

/** `npm start` is `jarima start --demo`: the quick start's demo staff, never in production. */
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'jarima-demo-'));

afterAll(async () => {
  const marker = path.join(dataDir, 'pg-location');
  const cluster = existsSync(marker) ? (await readFile(marker, 'utf8')).trim() : null;
  await rm(dataDir, { recursive: true, force: true });
  if (cluster && !cluster.startsWith(dataDir))
    await rm(path.dirname(cluster), { recursive: true, force: true });
});

describe('jarima start --demo', () => {
  it('creates and prints the demo staff, who can sign in, instead of a bootstrap link', async () => {
    const jarima = spawnJarima(['start', '--demo'], { JARIMA_DATA_DIR: dataDir, PORT: '0' });
    try {
      const url = await running(jarima);
      const out = jarima.output();
      expect(out).toMatch(/demo staff accounts \(shown once; also saved to .*demo-accounts\.txt\)/);
      expect(out).not.toContain('first administrator:');
      const password = (role: string) =>
        new RegExp(`${role}\\s+login: ${role}\\s+password: (\\S+)`).exec(out)?.[1];
      const api = client(url);
      const inspector = await api.call('POST', '/v1/auth/login', {
        login: 'inspector',
        password: password('inspector'),
      });
      expect(inspector.body.status).toBe('signed_in');
      const admin = await api.call('POST', '/v1/auth/login', { login: 'admin', password: password('admin') });
      expect(admin.body.status).toBe('totp_enrolment_required');
      const saved = await readFile(path.join(dataDir, 'demo-accounts.txt'), 'utf8');
      expect(saved).toContain(`inspector\tinspector\t${password('inspector')}`);
    } finally {
      expect(await jarima.stop('SIGTERM')).toBe(0);
    }
  }, 120_000);

  it('refuses --demo in production', async () => {
    const jarima = spawnJarima(['start', '--demo'], {
      JARIMA_DATA_DIR: dataDir,
      NODE_ENV: 'production',
      JARIMA_SECRET: 'x'.repeat(40),
      JARIMA_ALLOW_SIMULATORS: 'true',
    });
    const [code] = await once(jarima.child, 'exit');
    expect(jarima.output()).toContain('--demo: demo staff accounts are never created in production');
    expect(code).toBe(78);
  }, 60_000);
});
