import { Redis } from 'ioredis';

/**
 * The Redis the tests use (JARIMA_TEST_REDIS_URL, default the machine's 127.0.0.1:6379), or null when none answers.
 * Under CI (CI=true) a missing Redis is an error, never a silent skip.
 */
export async function testRedisUrl(): Promise<string | null> {
  const url = process.env.JARIMA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return url;
  } catch (err) {
    if (process.env.CI === 'true') throw new Error(`CI needs Redis at ${url}: ${(err as Error).message}`);
    console.warn(
      `SKIPPED: the Redis tests need Redis at ${url} (set JARIMA_TEST_REDIS_URL): ${(err as Error).message}`,
    );
    return null;
  } finally {
    probe.disconnect();
  }
}
