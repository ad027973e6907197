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

const KEY = 'jarima.session';
const listeners = new Set<() => void>();
let current: Session | null = read();

function read(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return Date.parse(s.expiresAt) > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  if (current && Date.parse(current.expiresAt) <= Date.now()) setSession(null);
  return current;
}

export function setSession(s: Session | null): void {
  current = s;
  try {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage off: the session lasts as long as the page.
  }
  for (const l of listeners) l();
}

export function onSessionChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
