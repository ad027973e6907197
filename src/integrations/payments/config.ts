import type { Config } from '../../platform/config/config.js';

/** Every callback secret accepted now (more than one only during a rotation); none without a provider. */
export function payoutWebhookSecrets(config: Pick<Config, 'PAYOUT_WEBHOOK_SECRET'>): string[] {
  return (config.PAYOUT_WEBHOOK_SECRET ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
