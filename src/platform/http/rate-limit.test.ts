import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../../test/helpers/app.js';
import { testRedisUrl } from '../../../test/helpers/redis.js';

const redisUrl = await testRedisUrl();

describe.skipIf(!redisUrl)('rate limits shared through Redis', () => {
  it('counts public requests per client address across API processes, trusting X-Forwarded-For only from proxies', async () => {
    const shared = {
      REDIS_URL: redisUrl!,
      // Keys of their own, so runs and other users of this Redis never share counters.
      REDIS_PREFIX: `jarima-test-${randomBytes(6).toString('hex')}:`,
      RATE_LIMIT_PUBLIC_PER_MINUTE: '3',
    };
    const a = await createTestApp({ ...shared, TRUST_PROXY: '127.0.0.1' });
    const b = await createTestApp({ ...shared, TRUST_PROXY: '127.0.0.1' });
    const get = (t: typeof a, ip?: string) =>
      t.app.inject({
        method: 'GET',
        url: '/v1/stats/summary',
        ...(ip ? { headers: { 'x-forwarded-for': ip } } : {}),
      });
    const statuses = [
      (await get(a)).statusCode,
      (await get(b)).statusCode,
      (await get(a)).statusCode,
      (await get(b)).statusCode,
    ];
    expect(statuses).toEqual([200, 200, 200, 429]);
    // Another client behind the trusted proxy has a budget of its own.
    expect((await get(a, '203.0.113.5')).statusCode).toBe(200);

    // A process that trusts no proxy ignores the header: the caller is the proxy's own address, already spent.
    const c = await createTestApp({ ...shared, TRUST_PROXY: '' });
    expect((await get(c, '198.51.100.7')).statusCode).toBe(429);
  });
});
