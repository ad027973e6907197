import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryLocker } from '@tus/server';
import type { Lock, Locker, RequestRelease } from '@tus/utils';
import { ERRORS } from '@tus/utils';
import type { Redis } from 'ioredis';

/** A lock not renewed for this long is free: its holder died (kill -9, a lost host). */
const TTL_MS = 15_000;
const RENEW_MS = 5_000;
const POLL_MS = 50;
const ACQUIRE_TIMEOUT_MS = 30_000;

// Release only, and renew only, the lock this holder still has (its token): a compare-and-act in one script.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * tus's lock on an upload across API hosts, in Redis: `SET key token NX PX` with a renewal while held, so a client
 * that resumes through another host after its connection dropped waits for (or asks for) the old request's lock
 * instead of writing beside it. A request that wants a held lock publishes on the upload's channel; the holder's
 * host hears it and calls its release callback (tus then ends the stalled request), as @tus/server's MemoryLocker
 * does within one process. A holder that died leaves a lock that expires after TTL_MS.
 */
export class RedisLocker implements Locker {
  private readonly holders = new Map<string, RequestRelease>();
  /** Locks taken in this process while Redis does not answer. */
  readonly fallback = new MemoryLocker();
  private subscribed: Promise<unknown> | null = null;

  constructor(
    readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  newLock(id: string): Lock {
    return new RedisLock(this, id);
  }

  key(id: string): string {
    return `${this.prefix}tus-lock:${id}`;
  }

  channel(id: string): string {
    return `${this.prefix}tus-release:${id}`;
  }

  /** One subscriber connection per process hears release requests for the uploads this process holds. */
  async listen(): Promise<void> {
    this.subscribed ??= (async () => {
      // Its own connection (a subscriber can do nothing else), queueing commands until it is connected.
      const sub = this.redis.duplicate({ enableOfflineQueue: true });
      sub.on('error', () => {});
      sub.on('pmessage', (_pattern, channel: string) => {
        const id = channel.slice(this.channel('').length);
        void this.holders.get(id)?.();
      });
      this.closers.push(() => sub.disconnect());
      await sub.psubscribe(`${this.channel('')}*`);
    })();
    const subscribed = this.subscribed;
    try {
      // Not forever: a Redis that does not answer in time means the process-local lock (RedisLock.lock).
      await Promise.race([
        subscribed,
        sleep(2000).then(() => {
          throw new Error('Redis did not answer the subscription');
        }),
      ]);
    } catch (err) {
      if (this.subscribed === subscribed) this.subscribed = null;
      throw err;
    }
  }

  hold(id: string, release: RequestRelease): void {
    this.holders.set(id, release);
  }

  drop(id: string): void {
    this.holders.delete(id);
  }

  private readonly closers: (() => void)[] = [];

  close(): void {
    for (const c of this.closers) c();
  }
}

class RedisLock implements Lock {
  private token = randomBytes(16).toString('hex');
  private renewal: NodeJS.Timeout | null = null;

  constructor(
    private readonly locker: RedisLocker,
    private readonly id: string,
  ) {}

  /** Held in this process instead, while Redis is away. */
  private local: Lock | null = null;

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    try {
      await this.lockInRedis(signal, requestRelease);
    } catch (err) {
      if (err === ERRORS.ERR_LOCK_TIMEOUT) throw err;
      // Redis is away: uploads go on, locked within this process (as without REDIS_URL); the store's offset check
      // still refuses a chunk that does not continue the upload.
      this.local = this.locker.fallback.newLock(this.id);
      await this.local.lock(signal, requestRelease);
    }
  }

  private async lockInRedis(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    await this.locker.listen();
    const { redis } = this.locker;
    const key = this.locker.key(this.id);
    const deadline = Date.now() + ACQUIRE_TIMEOUT_MS;
    let asked = false;
    while (!signal.aborted && Date.now() < deadline) {
      if ((await redis.set(key, this.token, 'PX', TTL_MS, 'NX')) === 'OK') {
        this.locker.hold(this.id, requestRelease);
        this.renewal = setInterval(() => {
          void redis.eval(RENEW, 1, key, this.token, String(TTL_MS)).catch(() => {});
        }, RENEW_MS);
        this.renewal.unref();
        return;
      }
      // Held: ask the holder, wherever it is, to let go (once), then wait for it.
      if (!asked) {
        asked = true;
        await redis.publish(this.locker.channel(this.id), this.token);
      }
      await sleep(POLL_MS);
    }
    throw ERRORS.ERR_LOCK_TIMEOUT;
  }

  async unlock(): Promise<void> {
    if (this.local) {
      await this.local.unlock();
      this.local = null;
      return;
    }
    if (this.renewal) clearInterval(this.renewal);
    this.renewal = null;
    this.locker.drop(this.id);
    await this.locker.redis.eval(RELEASE, 1, this.locker.key(this.id), this.token);
  }
}
