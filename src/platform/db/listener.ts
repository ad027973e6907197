import type { Logger } from '../logger.js';
import type { Pool, PoolClient } from './pool.js';

type Handler = (payload: string) => void;

/**
 * One LISTEN connection per process, shared by everyone who wants PostgreSQL notifications. A NOTIFY sent inside a
 * transaction is delivered only when it commits, so listeners hear committed changes and nothing rolled back.
 * If the connection drops, `onLost` handlers are told (notifications may have been missed) and it reconnects.
 */
export class PgListener {
  private client: PoolClient | null = null;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly lost = new Set<() => void>();
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /** Calls fn with the payload of each notification on channel; returns the unsubscribe function. */
  on(channel: string, fn: Handler): () => void {
    if (!/^[a-z_]+$/.test(channel)) throw new Error(`bad channel name ${channel}`);
    const set = this.handlers.get(channel) ?? new Set<Handler>();
    this.handlers.set(channel, set);
    set.add(fn);
    if (this.client) void this.listenToAll(this.client);
    else void this.connect();
    return () => set.delete(fn);
  }

  /** Calls fn each time the connection is lost; returns the unsubscribe function. */
  onLost(fn: () => void): () => void {
    this.lost.add(fn);
    return () => this.lost.delete(fn);
  }

  private connect(): Promise<void> {
    if (this.client || this.stopped) return Promise.resolve();
    this.connecting ??= (async () => {
      try {
        const client = await this.pool.connect();
        client.on('notification', (msg) => {
          for (const fn of this.handlers.get(msg.channel) ?? []) fn(msg.payload ?? '');
        });
        client.on('error', (err) => this.broken(err));
        this.listened.clear();
        this.client = client;
        // Channels added while connecting are listened to here as well.
        await this.listenToAll(client);
      } catch (err) {
        this.log.warn({ err }, 'could not LISTEN for notifications; retrying');
        this.scheduleRetry();
      } finally {
        this.connecting = null;
      }
    })();
    return this.connecting;
  }

  private readonly listened = new Set<string>();

  private async listenToAll(client: PoolClient): Promise<void> {
    for (const channel of this.handlers.keys()) {
      if (this.listened.has(channel)) continue;
      this.listened.add(channel);
      await client.query(`listen ${channel}`).catch((err: unknown) => this.broken(err));
    }
  }

  private broken(err: unknown) {
    this.log.warn({ err }, 'notification connection lost; reconnecting');
    const c = this.client;
    this.client = null;
    c?.release(true);
    for (const fn of this.lost) fn();
    this.scheduleRetry();
  }

  private scheduleRetry() {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect();
    }, 1000);
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.connecting;
    const c = this.client;
    this.client = null;
    if (c) {
      // A connection that could not UNLISTEN would carry our channels back into the pool: end it instead.
      const failed = await c.query('unlisten *').then(
        () => undefined,
        (err: unknown) => {
          this.log.warn({ err }, 'could not UNLISTEN; closing the connection');
          return err instanceof Error ? err : new Error(String(err));
        },
      );
      c.release(failed);
    }
  }
}
