import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnJarima } from '../../test/helpers/process.js';

/** `jarima start` in production with a simulator nobody opted into: it stops before listening, naming the variable. */
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'jarima-prod-guard-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const REAL_SYSTEMS = {
  SMS_GATEWAY_URL: 'https://sms.example',
  SMS_GATEWAY_API_KEY: 'k',
  SMTP_URL: 'smtp://mail.example:587',
  GOV_REGISTRY_URL: 'https://registry.example',
  GOV_REGISTRY_API_KEY: 'k',
  GOV_WEBHOOK_SECRET: 'g'.repeat(32),
};

describe('production start-up', () => {
  it('refuses the payout simulator unless JARIMA_ALLOW_SIMULATORS names it, with no stack trace', async () => {
    const jarima = spawnJarima(['start'], {
      ...REAL_SYSTEMS,
      NODE_ENV: 'production',
      JARIMA_SECRET: 'x'.repeat(40),
      JARIMA_DATA_DIR: dataDir,
      PORT: '0',
    });
    const code = await new Promise<number | null>((resolve) => {
      if (jarima.child.exitCode !== null) resolve(jarima.child.exitCode);
      else jarima.child.on('exit', resolve);
    });
    expect(code).toBe(78);
    const out = jarima.output();
    expect(out).toMatch(/JARIMA_ALLOW_SIMULATORS: without PAYOUT_PROVIDER_URL/);
    expect(out).toContain('JARIMA_ALLOW_SIMULATORS=payouts');
    expect(out).not.toMatch(/^\s+at /m);
  }, 60_000);

  it('refuses to fall back to the bundled 2018 ffmpeg unless MEDIA_TOOLS=bundled asks for it', async () => {
    const jarima = spawnJarima(['start'], {
      ...REAL_SYSTEMS,
      NODE_ENV: 'production',
      JARIMA_SECRET: 'x'.repeat(40),
      JARIMA_ALLOW_SIMULATORS: 'payouts',
      JARIMA_DATA_DIR: dataDir,
      PORT: '0',
      // A host with no ffmpeg on its PATH.
      PATH: '/nonexistent',
    });
    const code = await new Promise<number | null>((resolve) => {
      if (jarima.child.exitCode !== null) resolve(jarima.child.exitCode);
      else jarima.child.on('exit', resolve);
    });
    expect(code).toBe(78);
    expect(jarima.output()).toMatch(/MEDIA_TOOLS: no ffmpeg and ffprobe on PATH/);
    expect(jarima.output()).toContain('apt-get install ffmpeg');
  }, 60_000);
});
