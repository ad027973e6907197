/**
 * The citizen's sign-in token lives in sessionStorage: it survives a reload of the tab (a citizen filing a report
 * must not lose it to a refresh) but not the tab itself, and is never shared with other tabs or left behind on a
 * shared phone the way localStorage would leave it for the token's 12 hours. It is never written to a cookie, so
 * no request carries it unless the app adds it, and nothing in the app logs it.
 */
export interface Session {
  token: string;
  subjectId: string;
  expiresAt: string;
}

/**
 * A sign-in kept in sessionStorage under `key`, dropped once it expires, with change listeners — one for the
 * citizen's, one for staff's (src/staff/session.ts), so neither token can end or stand in for the other.
 */
export function sessionStore<S extends { expiresAt: string }>(key: string) {
  const listeners = new Set<() => void>();
  const read = (): S | null => {
    try {
      const raw = sessionStorage.getItem(key);
      if (!raw) return null;
      const s = JSON.parse(raw) as S;
      return Date.parse(s.expiresAt) > Date.now() ? s : null;
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
      if (current && Date.parse(current.expiresAt) <= Date.now()) set(null);
      return current;
    },
    set,
    subscribe: (fn: () => void): (() => void) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

const citizen = sessionStore<Session>('jarima.session');
export const getSession = citizen.get;
export const setSession = citizen.set;
export const onSessionChange = citizen.subscribe;
