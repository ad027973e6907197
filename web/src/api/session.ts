/**
 * The citizen's sign-in token lives in sessionStorage: it survives a reload of the tab (a citizen filing a report
 * must not lose it to a refresh) but not the tab itself, and is never shared with other tabs or left behind on a
 * shared phone the way localStorage would leave it for the session's 30 days. It is never written to a cookie, so
 * no request carries it unless the app adds it, and nothing in the app logs it.
 */
export interface Session extends Tokens {
  subjectId: string;
}

/**
 * What a sign-in or a refresh hands over (POST /v1/auth/refresh and every sign-in answer): a short-lived access
 * token and the refresh token that replaces it, each with its expiry. The refresh fields are optional only for a
 * session stored by an older build of the app, which then simply ends when its access token does.
 */
export interface Tokens {
  token: string;
  expiresAt: string;
  refreshToken?: string;
  refreshExpiresAt?: string;
  sessionId?: string;
}

/** The tokens of a sign-in or refresh answer, as a session keeps them. */
export function tokensOf(r: Tokens): Tokens {
  return {
    token: r.token,
    expiresAt: r.expiresAt,
    refreshToken: r.refreshToken,
    refreshExpiresAt: r.refreshExpiresAt,
    sessionId: r.sessionId,
  };
}

/** Until when a stored session may still be used: its refresh token's life, else its access token's. */
export function usableUntil(s: Tokens): number {
  return Date.parse(s.refreshExpiresAt ?? s.expiresAt);
}

/**
 * A sign-in kept in sessionStorage under `key`, dropped once it expires, with change listeners — one for the
 * citizen's, one for staff's (src/staff/session.ts), so neither token can end or stand in for the other.
 */
export function sessionStore<S extends Tokens>(key: string) {
  const listeners = new Set<() => void>();
  const read = (): S | null => {
    try {
      const raw = sessionStorage.getItem(key);
      if (!raw) return null;
      const s = JSON.parse(raw) as S;
      return usableUntil(s) > Date.now() ? s : null;
    } catch {
      return null;
    }
  };
  let current: S | null = read();
  const set = (s: S | null): void => {
    current = s;
    try {
      if (s) sessionStorage.setItem(key, JSON.stringify(s));
      else sessionStorage.removeItem(key);
    } catch {
      // Storage off: the session lasts as long as the page.
    }
    for (const l of listeners) l();
  };
  return {
    get: (): S | null => {
      if (current && usableUntil(current) <= Date.now()) set(null);
      return current;
    },
    set,
    subscribe: (fn: () => void): (() => void) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

/** The citizen's session (its refresher is in api/client.ts). */
export const citizenStore = sessionStore<Session>('jarima.session');
const citizen = citizenStore;
export const getSession = citizen.get;
export const setSession = citizen.set;
export const onSessionChange = citizen.subscribe;
