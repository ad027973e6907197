import type { PgListener } from '../platform/db/listener.js';
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
 * The open `GET /v1/me/events` streams of each citizen, fed from the process's one LISTEN connection. The NOTIFY
 * is sent by the transition's own transaction, so every process hears exactly the committed changes, and a
 * process that was away catches up from the notifications table (Last-Event-ID).
 */
export class CitizenStreams {
  private readonly listeners = new Map<string, Set<Listener>>();
  private listening = false;

  constructor(private readonly pg: PgListener) {}

  /** Subscribes; returns the unsubscribe function. Starts listening on the first subscriber. */
  subscribe(citizenId: string, fn: Listener): () => void {
    const set = this.listeners.get(citizenId) ?? new Set<Listener>();
    this.listeners.set(citizenId, set);
    set.add(fn);
    if (!this.listening) {
      this.listening = true;
      this.pg.on(CITIZEN_CHANNEL, (payload) => {
        const e = JSON.parse(payload) as LiveEvent;
        for (const f of this.listeners.get(e.citizenId) ?? []) f(e);
      });
      this.pg.onLost(() => {
        for (const s of this.listeners.values()) for (const f of s) f('reset');
      });
    }
    return () => {
      set.delete(fn);
      if (set.size === 0) this.listeners.delete(citizenId);
    };
  }
}
