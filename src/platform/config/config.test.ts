import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from './config.js';

describe('configuration', () => {
  it('has a working default for everything', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      JARIMA_DATA_DIR: '.jarima',
      EVIDENCE_MAX_BYTES: 200 * 1024 * 1024,
      FILING_WINDOW_HOURS: 72,
    });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('reads and converts values from the environment', () => {
    const c = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u@h/db',
      LOG_LEVEL: 'warn',
      IGNORED: 'x',
    });
    expect(c).toMatchObject({ PORT: 8080, DATABASE_URL: 'postgres://u@h/db', LOG_LEVEL: 'warn' });
  });

  it('names every wrong variable', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', OTP_MAX_ATTEMPTS: '0', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const vars = (err as ConfigError).problems.map((p) => p.variable).sort();
      expect(vars).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'OTP_MAX_ATTEMPTS', 'PORT']);
      expect((err as Error).message).toContain('PORT');
    }
  });

  it('refuses a short secret', () => {
    expect(() => loadConfig({ JARIMA_SECRET: 'short' })).toThrow(/JARIMA_SECRET/);
  });

  it('in production, demands a secret and an explicit opt-in to the simulators', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /JARIMA_SECRET[\s\S]*JARIMA_ALLOW_SIMULATORS/,
    );
    expect(
      loadConfig({ NODE_ENV: 'production', JARIMA_SECRET: 'x'.repeat(40), JARIMA_ALLOW_SIMULATORS: 'true' })
        .NODE_ENV,
    ).toBe('production');
  });

  it('documents every variable', () => {
    expect(describeConfig().every((l) => / — \S/.test(l))).toBe(true);
  });
});
