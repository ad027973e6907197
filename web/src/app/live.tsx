import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from 'react';
import type { ReportChangeMessage } from '../../../src/notifications/notifications.schema.js';
import { ApiError, authHeader, citizenRefresher, sessionRefused } from '../api/client';
import { runEventStream, type StreamState } from '../lib/sse';
import { useSession } from './session';

/** What the live stream says about one of the citizen's reports (GET /v1/me/events, `event: report`). */
export type ReportChange = ReportChangeMessage;

interface Live {
  state: StreamState;
  /** Called for every change; and with null after a reconnect, when anything may have been missed. */
  subscribe(fn: (change: ReportChange | null) => void): () => void;
}

const LiveContext = createContext<Live | null>(null);
const LAST_ID_KEY = 'jarima.lastEventId';

/** Forgets where the stream was (on sign-out: the next citizen in this tab starts from now). */
export function forgetLiveCursor(): void {
  sessionStorage.removeItem(LAST_ID_KEY);
}

/**
 * One event stream for the signed-in citizen, opened at sign-in (before any report is filed, so no change can
 * happen unheard) and shared by every page. The last event id is kept for the tab, so a reload resumes where the
 * stream was; after any reconnect, subscribers are told to refresh what they show.
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const session = useSession();
  const [state, setState] = useState<StreamState>('closed');
  const subscribers = useRef(new Set<(c: ReportChange | null) => void>());
  // One stream per session, not per access token: a refreshed token is used at the next reconnect.
  const token = session ? (session.sessionId ?? session.token) : undefined;

  useEffect(() => {
    if (!token) return;
    const abort = new AbortController();
    let opened = 0;
    void runEventStream({
      url: '/v1/me/events',
      headers: authHeader,
      lastEventId: sessionStorage.getItem(LAST_ID_KEY),
      signal: abort.signal,
      onState: (s) => {
        setState(s);
        if (s === 'open' && opened++ > 0) for (const fn of subscribers.current) fn(null);
      },
      beforeConnect: () => citizenRefresher.ensureFresh(),
      // The stream is authenticated when it connects; a lapsed token is refreshed and the stream reconnects.
      onRefused: async (status, code) => {
        const used = authHeader().authorization?.replace(/^Bearer /, '') ?? '';
        if (status === 401 && code === 'TOKEN_EXPIRED' && (await citizenRefresher.refreshAfterExpiry(used)))
          return true;
        sessionRefused(new ApiError(status, code || 'TOKEN_INVALID', 'event stream refused'));
        return false;
      },
      onMessage: (msg) => {
        if (msg.id) sessionStorage.setItem(LAST_ID_KEY, msg.id);
        if (msg.event !== 'report') return;
        let change: ReportChange;
        try {
          change = JSON.parse(msg.data) as ReportChange;
        } catch {
          return;
        }
        for (const fn of subscribers.current) fn(change);
      },
    });
    return () => abort.abort();
  }, [token]);

  const value = useRef<Live>({
    state: 'closed',
    subscribe(fn) {
      subscribers.current.add(fn);
      return () => subscribers.current.delete(fn);
    },
  });
  return (
    <LiveContext.Provider value={{ ...value.current, state: token ? state : 'closed' }}>
      {children}
    </LiveContext.Provider>
  );
}

export function useLive(): Live {
  const v = useContext(LiveContext);
  if (!v) throw new Error('useLive outside LiveProvider');
  return v;
}

/** Runs `onChange` for live changes (null: after a reconnect) while the component is mounted. */
export function useLiveChanges(onChange: (c: ReportChange | null) => void): void {
  const { subscribe } = useLive();
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => subscribe((c) => latest.current(c)), [subscribe]);
}
