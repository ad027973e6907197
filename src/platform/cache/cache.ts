import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import type { Redis } from 'ioredis';

/**
 * Every namespace the platform caches, with its key shape, value and policy. A value is served fresh for `ttl`;
 * after that, for up to `grace`, the stale value is served while one caller refreshes it (stampede protection: one
 * factory per key at a time) — and served as it is if the database cannot answer.
 */
export const NAMESPACES = {
  /** key: `<endpoint>?<query>`; value: the JSON body of a public statistics response. Refreshed every minute. */
  stats: { ttl: '60s', grace: '10m' },
} as const;
export type Namespace = keyof typeof NAMESPACES;

export interface NamespaceCounts {
  hits: number;
  misses: number;
  stale: number;
}

/**
 * Two tiers: L1 in process memory; L2 in Redis with a bus that invalidates other processes' L1, when REDIS_URL is
 * set. If Redis goes away, a circuit breaker stops trying it for a while and the platform serves from L1 and the
 * database; it uses Redis again once it is back.
 */
export class Cache {
  private readonly bento: BentoCache<{ cache: ReturnType<typeof bentostore> }>;
  private readonly counts = new Map<string, NamespaceCounts>();

  constructor(opts: { redis: Redis | null; prefix: string }) {
    let store = bentostore().useL1Layer(memoryDriver({ maxSize: '50mb' }));
    if (opts.redis) {
      store = store
        .useL2Layer(redisDriver({ connection: opts.redis, prefix: `${opts.prefix}cache` }))
        // The bus keeps its own connections, which queue while Redis is away (a publish waits for the reconnect
        // rather than failing outside any caller's hands).
        .useBus(
          redisBusDriver({
            connection: { ...opts.redis.options, enableOfflineQueue: true, maxRetriesPerRequest: null },
          }),
        );
    }
    this.bento = new BentoCache({
      default: 'cache',
      stores: { cache: store },
      l2CircuitBreakerDuration: '5s',
      suppressL2Errors: true,
    });
    for (const ns of Object.keys(NAMESPACES)) this.counts.set(ns, { hits: 0, misses: 0, stale: 0 });
    const count = (key: string, field: keyof NamespaceCounts) => {
      const c = this.counts.get(key.split(':')[0]!);
      if (c) c[field]++;
    };
    this.bento.on('cache:hit', (e) => count(e.key, e.graced ? 'stale' : 'hits'));
    this.bento.on('cache:miss', (e) => count(e.key, 'misses'));
  }

  /** The cached value, or the factory's (run once per key at a time, however many callers wait for it). */
  getOrSet<T>(ns: Namespace, key: string, factory: () => Promise<T>): Promise<T> {
    const policy = NAMESPACES[ns];
    // Keys carry their namespace (`stats:summary`), so events can be counted per namespace.
    return this.bento.getOrSet({ key: `${ns}:${key}`, factory, ttl: policy.ttl, grace: policy.grace });
  }

  /** Hit, miss and stale counts per namespace since start. */
  stats(): Record<string, NamespaceCounts & { hitRate: number | null }> {
    return Object.fromEntries(
      [...this.counts].map(([ns, c]) => {
        const total = c.hits + c.misses + c.stale;
        return [ns, { ...c, hitRate: total ? (c.hits + c.stale) / total : null }];
      }),
    );
  }

  async disconnect(): Promise<void> {
    await this.bento.disconnectAll();
  }
}
