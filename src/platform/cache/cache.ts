import { BentoCache, bentostore, errors } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import type { Redis } from 'ioredis';

/**
 * One class of cached data: its name (the first segment of every key), the shape of its keys, the type of its
 * values, and its policy. A value is served fresh for `ttl`; after that, for up to `grace`, the stale value is served
 * while one caller refreshes it (stampede protection: one factory per key at a time) — and served as it is if the
 * database cannot answer. Namespaces invalidated on write use `ttl` only as a bound on a missed invalidation.
 * Each feature declares its namespaces beside the code that fills them.
 */
export interface CacheNamespace<K, V> {
  name: string;
  ttl: string;
  grace: string;
  key: (k: K) => string;
  /** Never read: it carries the value type. */
  readonly value?: V;
}

export function cacheNamespace<V, K = string>(
  name: string,
  policy: { ttl: string; grace: string; key?: (k: K) => string },
): CacheNamespace<K, V> {
  return { name, ttl: policy.ttl, grace: policy.grace, key: policy.key ?? ((k: K) => String(k)) };
}

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

  private readonly enabled: boolean;
  private readonly redelete = new Set<NodeJS.Timeout>();

  /**
   * `enabled: false` sends every read to its factory (to measure what the cache saves; `CACHE_ENABLED=false`).
   * `namespaces` are the ones counted from the start, so an unused one still shows its zeros.
   */
  constructor(opts: {
    redis: Redis | null;
    prefix: string;
    enabled?: boolean;
    /** Most memory the L1 tier may hold before it evicts the least recently used. */
    memoryMb?: number;
    namespaces: CacheNamespace<never, unknown>[];
  }) {
    this.enabled = opts.enabled ?? true;
    // Bounded by memory: the driver's default of 1,000 entries evicted a country's status polls before their
    // second read (10 % hit rate in the mixed benchmark, bench/README.md). The count bound is what the memory holds
    // at 512 bytes an entry (less than any view we store), not more: lru-cache allocates its index for the whole
    // count up front — 10M entries took 1.4 s and ~440 MB at start-up and made each set 16 µs instead of 1.5.
    const memoryMb = opts.memoryMb ?? 256;
    let store = bentostore().useL1Layer(
      memoryDriver({
        maxSize: `${memoryMb}mb`,
        maxItems: Math.max(10_000, Math.ceil((memoryMb * 1024 * 1024) / 512)),
      }),
    );
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
    for (const ns of opts.namespaces) this.counts.set(ns.name, { hits: 0, misses: 0, stale: 0 });
    const nsOf = (key: string) => key.slice(0, key.indexOf(':'));
    this.bento.on('cache:hit', (e) => this.count(nsOf(e.key), e.graced ? 'stale' : 'hits'));
    this.bento.on('cache:miss', (e) => this.count(nsOf(e.key), 'misses'));
  }

  /**
   * The cached value, or the factory's (run once per key at a time, however many callers wait for it). A factory
   * that answers null (nothing there) is not cached, so a key asked for before its data exists is not stuck empty.
   */
  getOrSet<K, V, R extends V>(ns: CacheNamespace<K, V>, key: K, factory: () => Promise<R>): Promise<R>;
  getOrSet<K, V, R extends V>(
    ns: CacheNamespace<K, V>,
    key: K,
    factory: () => Promise<R | null>,
  ): Promise<R | null>;
  async getOrSet<K, V, R extends V>(
    ns: CacheNamespace<K, V>,
    key: K,
    factory: () => Promise<R | null>,
  ): Promise<R | null> {
    if (!this.enabled) {
      this.count(ns.name, 'misses');
      return factory();
    }
    // Keys carry their namespace (`stats:summary`), so events can be counted per namespace.
    try {
      const value = await this.bento.getOrSet<R | undefined>({
        key: `${ns.name}:${ns.key(key)}`,
        factory: async (ctx) => (await factory()) ?? ctx.skip(),
        ttl: ns.ttl,
        grace: ns.grace,
      });
      return value ?? null;
    } catch (err) {
      // The factory's own error (a 404, a database outage → 503), not the cache's wrapper around it.
      throw err instanceof errors.E_FACTORY_ERROR ? err.cause : err;
    }
  }

  /** Stores a value read along with something else (a list's rows as their own entries), under ns's policy. */
  async set<K, V>(ns: CacheNamespace<K, V>, key: K, value: V): Promise<void> {
    if (!this.enabled) return;
    await this.bento.set({ key: `${ns.name}:${ns.key(key)}`, value, ttl: ns.ttl, grace: ns.grace });
  }

  /**
   * Drops these keys here, in Redis, and (through the bus) in every other process's memory. A reader whose factory
   * read the database just before the change committed can still store the old value after this delete, so the
   * keys are dropped once more a second later: a factory takes milliseconds, and the namespace's ttl bounds the rest.
   */
  async invalidate<K>(ns: CacheNamespace<K, unknown>, keys: K[]): Promise<void> {
    if (!this.enabled || keys.length === 0) return;
    const full = keys.map((k) => `${ns.name}:${ns.key(k)}`);
    const drop = () => this.bento.deleteMany({ keys: full }).catch(() => false);
    const again = setTimeout(() => {
      this.redelete.delete(again);
      void drop();
    }, 1000);
    again.unref();
    this.redelete.add(again);
    await drop();
  }

  private count(ns: string, field: keyof NamespaceCounts) {
    const c = this.counts.get(ns);
    if (c) c[field]++;
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
    for (const t of this.redelete) clearTimeout(t);
    await this.bento.disconnectAll();
  }
}
