import type { Pool, PoolClient } from '../platform/db/pool.js';
import type { Logger } from '../platform/logger.js';
import { CITIZEN_CHANNEL } from './queue.js';

export interface LiveEvent {
  id: number;
  citizenId: string;
  reportId: string;
  event: string;
  at: string;
}

/** 'reset': the live connection was lost; the stream should end so the client reconnects and replays. */
type Listener = (e: LiveEvent | 'reset') => void;

/**
 * One LISTEN connection per API process, fanned out to the open `GET /v1/me/events` streams of each citizen. The
 * NOTIFY is sent by the transition's own transaction, so every process hears exactly the committed changes, and a
 * process that was away catches up from the notifications table (Last-Event-ID).
 */
export class CitizenStreams {
  private client: PoolClient | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /** Subscribes; returns the unsubscribe function. Connects on the first subscriber. */
  subscribe(citizenId: string, fn: Listener): () => void {
    const set = this.listeners.get(citizenId) ?? new Set<Listener>();
    this.listeners.set(citizenId, set);
    set.add(fn);
    void this.connect();
    return () => {
      set.delete(fn);
      if (set.size === 0) this.listeners.delete(citizenId);
    };
  }

  private connecting: Promise<void> | null = null;
  private connect(): Promise<void> {
    if (this.client || this.stopped) return Promise.resolve();
    this.connecting ??= (async () => {
      try {
        const client = await this.pool.connect();
        client.on('notification', (msg) => {
          if (msg.channel !== CITIZEN_CHANNEL || !msg.payload) return;
          const e = JSON.parse(msg.payload) as LiveEvent;
          for (const fn of this.listeners.get(e.citizenId) ?? []) fn(e);
        });
        client.on('error', (err) => {
          this.log.warn({ err }, 'live stream connection lost; reconnecting');
          this.drop(true);
        });
        await client.query(`listen ${CITIZEN_CHANNEL}`);
        this.client = client;
      } catch (err) {
        this.log.warn({ err }, 'live stream could not listen; retrying');
        this.scheduleRetry();
      } finally {
        this.connecting = null;
      }
    })();
    return this.connecting;
  }

  private drop(broken: boolean) {
    const c = this.client;
    this.client = null;
    c?.release(broken);
    if (!broken) return;
    for (const set of this.listeners.values()) for (const fn of set) fn('reset');
    this.scheduleRetry();
  }

  private scheduleRetry() {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.listeners.size) void this.connect();
    }, 1000);
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.connecting;
    if (this.client) {
      await this.client.query(`unlisten ${CITIZEN_CHANNEL}`).catch(() => {});
      this.drop(false);
    }
  }
}
