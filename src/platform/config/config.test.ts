import { describe, expect, it } from 'vitest';
import { allowedSimulators, ConfigError, describeConfig, loadConfig, runningSimulators } from './config.js';

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

  describe('simulators in production', () => {
    const prod = { NODE_ENV: 'production', JARIMA_SECRET: 'x'.repeat(40) };
    const real = {
      SMS_GATEWAY_URL: 'https://sms.example',
      SMS_GATEWAY_API_KEY: 'k',
      SMTP_URL: 'smtp://mail.example:587',
      GOV_REGISTRY_URL: 'https://registry.example',
      GOV_REGISTRY_API_KEY: 'k',
      GOV_WEBHOOK_SECRET: 'g'.repeat(32),
      PAYOUT_PROVIDER_URL: 'https://pay.example',
      PAYOUT_PROVIDER_API_KEY: 'k',
      PAYOUT_WEBHOOK_SECRET: 'p'.repeat(32),
    };
    const problemsOf = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
      }
    };

    it('starts with every real system configured and no simulator', () => {
      const c = loadConfig({ ...prod, ...real });
      expect(runningSimulators(c)).toEqual([]);
    });

    it.each([
      ['sms', 'SMS_GATEWAY_URL', 'SMS_'],
      ['email', 'SMTP_URL', 'SMTP_'],
      ['registry', 'GOV_REGISTRY_URL', 'GOV_'],
      ['payouts', 'PAYOUT_PROVIDER_URL', 'PAYOUT_'],
    ] as const)(
      'refuses the %s simulator, naming JARIMA_ALLOW_SIMULATORS and %s',
      (simulator, url, prefix) => {
        // The real system's settings all left out: its simulator would run.
        const env: Record<string, string> = Object.fromEntries(
          Object.entries({ ...prod, ...real }).filter(([k]) => !k.startsWith(prefix)),
        );
        const problems = problemsOf(env);
        expect(problems).toHaveLength(1);
        expect(problems[0]!.variable).toBe('JARIMA_ALLOW_SIMULATORS');
        expect(problems[0]!.message).toContain(url);
        expect(problems[0]!.message).toContain(`JARIMA_ALLOW_SIMULATORS=${simulator}`);
        // Opted into by name, it starts; another simulator's name is not enough.
        expect(runningSimulators(loadConfig({ ...env, JARIMA_ALLOW_SIMULATORS: simulator }))).toEqual([
          simulator,
        ]);
        const other = simulator === 'sms' ? 'email' : 'sms';
        expect(problemsOf({ ...env, JARIMA_ALLOW_SIMULATORS: other })[0]?.variable).toBe(
          'JARIMA_ALLOW_SIMULATORS',
        );
      },
    );

    it('takes a list, and true for all (as the boolean it was)', () => {
      const c = loadConfig({ ...prod, JARIMA_ALLOW_SIMULATORS: 'sms, email,registry,payouts' });
      expect(runningSimulators(c)).toEqual(['sms', 'email', 'registry', 'payouts']);
      expect([...allowedSimulators(loadConfig({ JARIMA_ALLOW_SIMULATORS: 'true' }))].sort()).toEqual([
        'email',
        'payouts',
        'registry',
        'sms',
      ]);
      expect(problemsOf({ JARIMA_ALLOW_SIMULATORS: 'sms,fax' })[0]?.variable).toBe('JARIMA_ALLOW_SIMULATORS');
    });

    it('in development runs every simulator without asking', () => {
      expect(runningSimulators(loadConfig({}))).toEqual(['sms', 'email', 'registry', 'payouts']);
    });

    it('wants the payment provider settings together', () => {
      const vars = (env: Record<string, string>) =>
        problemsOf(env)
          .map((p) => p.variable)
          .sort();
      expect(vars({ PAYOUT_PROVIDER_URL: 'https://pay.example' })).toEqual([
        'PAYOUT_PROVIDER_API_KEY',
        'PAYOUT_WEBHOOK_SECRET',
      ]);
      expect(vars({ PAYOUT_WEBHOOK_SECRET: 'p'.repeat(32) })).toEqual(['PAYOUT_PROVIDER_URL']);
      expect(vars({ PAYOUT_PROVIDER_URL: 'ftp://pay.example' })).toEqual(['PAYOUT_PROVIDER_URL']);
    });
  });

  it('documents every variable', () => {
    expect(describeConfig().every((l) => / — \S/.test(l))).toBe(true);
  });
});
