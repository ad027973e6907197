import { type Static, Type as T } from '@sinclair/typebox';
import type { HttpGovRegistryOptions } from './http-adapter.js';

const Int = (def: number, min: number, max: number, description: string) =>
  T.Integer({ default: def, minimum: min, maximum: max, description });

/**
 * The registry's settings, to spread into the app's `ConfigSchema` so they are validated, defaulted and listed by
 * `jarima config` like every other variable.
 */
export const GOV_REGISTRY_CONFIG = {
  GOV_REGISTRY_URL: T.Optional(
    T.String({
      pattern: '^https?://[^,\\s]+(,\\s*https?://[^,\\s]+)*$',
      description: 'Comma-separated base URLs of the registry replicas; unset = the local simulator',
    }),
  ),
  GOV_REGISTRY_API_KEY: T.Optional(
    T.String({ minLength: 1, description: 'Bearer key for the registry; required with GOV_REGISTRY_URL' }),
  ),
  GOV_REGISTRY_TIMEOUT_MS: Int(5000, 100, 120_000, 'Per attempt, aborting the request'),
  GOV_REGISTRY_RETRIES: Int(
    3,
    0,
    10,
    'In-place retries of a retryable failure, before the job queue retries',
  ),
  GOV_REGISTRY_BREAKER_FAILURES: Int(5, 1, 1000, 'Consecutive failed calls that open the circuit breaker'),
  GOV_REGISTRY_BREAKER_HALF_OPEN_MS: Int(
    10_000,
    100,
    600_000,
    'How long the breaker fails fast before a probe',
  ),
  GOV_REGISTRY_MAX_CONCURRENT: Int(8, 1, 256, 'Registry calls in flight per process'),
  GOV_REGISTRY_MAX_QUEUED: Int(64, 0, 10_000, 'Calls waiting for a slot before new ones fail fast'),
  GOV_WEBHOOK_SECRET: T.Optional(
    T.String({
      pattern: '^[^,\\s]{32,}(,\\s*[^,\\s]{32,})*$',
      description: 'Verifies registry webhooks (each 32+ chars; comma-separated during a rotation)',
    }),
  ),
  GOV_WEBHOOK_TOLERANCE_SECONDS: Int(300, 30, 3600, 'Oldest (or furthest-future) webhook timestamp accepted'),
};

const GovRegistryConfigSchema = T.Object(GOV_REGISTRY_CONFIG);
export type GovRegistryConfig = Static<typeof GovRegistryConfigSchema>;

/** null when no URL is set: the composition root starts the simulator instead. */
export function govRegistryOptions(config: GovRegistryConfig): HttpGovRegistryOptions | null {
  if (!config.GOV_REGISTRY_URL) return null;
  if (!config.GOV_REGISTRY_API_KEY) throw new Error('GOV_REGISTRY_API_KEY: required with GOV_REGISTRY_URL');
  return {
    urls: config.GOV_REGISTRY_URL.split(',').map((u) => u.trim()),
    apiKey: config.GOV_REGISTRY_API_KEY,
    ...govRegistryPolicy(config),
  };
}

/** Timeout, retries, breaker and bulkhead from the configuration, whichever registry they guard. */
export function govRegistryPolicy(
  config: GovRegistryConfig,
): Pick<HttpGovRegistryOptions, 'timeoutMs' | 'retries' | 'breaker' | 'bulkhead'> {
  return {
    timeoutMs: config.GOV_REGISTRY_TIMEOUT_MS,
    retries: config.GOV_REGISTRY_RETRIES,
    breaker: {
      consecutiveFailures: config.GOV_REGISTRY_BREAKER_FAILURES,
      halfOpenAfterMs: config.GOV_REGISTRY_BREAKER_HALF_OPEN_MS,
    },
    bulkhead: {
      maxConcurrent: config.GOV_REGISTRY_MAX_CONCURRENT,
      maxQueued: config.GOV_REGISTRY_MAX_QUEUED,
    },
  };
}

/** Every secret currently accepted (more than one only during a rotation). */
export function govWebhookSecrets(config: GovRegistryConfig): string[] {
  return (config.GOV_WEBHOOK_SECRET ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
