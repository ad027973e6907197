import { Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import {
  GOV_REGISTRY_CONFIG,
  type GovRegistryConfig,
  govRegistryOptions,
  govWebhookSecrets,
} from './config.js';

const Schema = T.Object(GOV_REGISTRY_CONFIG);
const load = (env: Record<string, string>) => Value.Default(Schema, Value.Convert(Schema, { ...env }));

describe('gov registry config', () => {
  it('uses the simulator when no URL is set, and the defaults otherwise', () => {
    const none = load({});
    expect(Value.Check(Schema, none)).toBe(true);
    expect(govRegistryOptions(none as GovRegistryConfig)).toBeNull();

    const cfg = load({
      GOV_REGISTRY_URL: 'https://a.gov.uz/api, https://b.gov.uz/api',
      GOV_REGISTRY_API_KEY: 'k',
    });
    expect(Value.Check(Schema, cfg)).toBe(true);
    expect(govRegistryOptions(cfg as GovRegistryConfig)).toMatchObject({
      urls: ['https://a.gov.uz/api', 'https://b.gov.uz/api'],
      timeoutMs: 5000,
      retries: 3,
      breaker: { consecutiveFailures: 5, halfOpenAfterMs: 10_000 },
      bulkhead: { maxConcurrent: 8, maxQueued: 64 },
    });
  });

  it('refuses a URL without a key, a bad URL list and short webhook secrets', () => {
    expect(() =>
      govRegistryOptions(load({ GOV_REGISTRY_URL: 'https://a.gov.uz' }) as GovRegistryConfig),
    ).toThrow(/API_KEY/);
    expect(Value.Check(Schema, load({ GOV_REGISTRY_URL: 'a.gov.uz' }))).toBe(false);
    expect(Value.Check(Schema, load({ GOV_WEBHOOK_SECRET: 'short' }))).toBe(false);
    const two = `${'a'.repeat(32)},${'b'.repeat(40)}`;
    const cfg = load({ GOV_WEBHOOK_SECRET: two });
    expect(Value.Check(Schema, cfg)).toBe(true);
    expect(govWebhookSecrets(cfg as GovRegistryConfig)).toEqual(['a'.repeat(32), 'b'.repeat(40)]);
  });
});
