import type { Tokens } from './session.js';

/**
 * Keeps one session's access token fresh. Access tokens live minutes (ACCESS_TOKEN_TTL_SECONDS, at most 15); the
 * refresh token (rotated on each use) lives as long as the session. A token about to expire is replaced before a
 * call is made, and a call refused with TOKEN_EXPIRED is retried once after a refresh. Refreshes are single-flight:
 * a refresh token is good for one use, so a second concurrent refresh would present a spent token, which the server
 * takes for theft (REFRESH_REUSED) and answers by ending the whole session.
 */
export interface Refresher {
  /** Before a call: refreshes (once, shared) if the access token expires within the margin. Never throws. */
  ensureFresh(): Promise<void>;
  /**
   * After a TOKEN_EXPIRED answer to a call made with `usedToken`: true when a fresh token is there to retry with
   * (someone else may have refreshed meanwhile); false when the session is over or the refresh failed.
   */
  refreshAfterExpiry(usedToken: string): Promise<boolean>;
}

/** Codes meaning the session is over: the refresh token, or the session it belongs to, is no longer good. */
export const SESSION_OVER_CODES = new Set([
  'REFRESH_INVALID',
  'REFRESH_REUSED',
  'SESSION_REVOKED',
  'TOKEN_INVALID',
  'UNAUTHENTICATED',
]);

/** Refresh this long before the access token expires, so a call rarely leaves with a token about to lapse (clock skew
 * is covered by the TOKEN_EXPIRED retry). */
const MARGIN_MS = 10_000;

export function makeRefresher<S extends Tokens>(store: {
  get(): S | null;
  set(s: S | null): void;
}): Refresher {
  let flight: Promise<boolean> | null = null;

  const refresh = (): Promise<boolean> => {
    flight ??= run().finally(() => {
      flight = null;
    });
    return flight;
  };

  const run = async (): Promise<boolean> => {
    const s = store.get();
    if (!s?.refreshToken) return false;
    let res: Response;
    try {
      res = await fetch('/v1/auth/refresh', {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: s.refreshToken }),
      });
    } catch {
      // No answer: the session may still be good; the call fails as a network error and may be retried.
      return false;
    }
    if (!res.ok) {
      let code = '';
      try {
        code = ((await res.json()) as { code?: string }).code ?? '';
      } catch {
        // Not ours.
      }
      // Only a refusal of the session ends it; a rate limit or an outage leaves it for the next call.
      if (res.status === 401 || SESSION_OVER_CODES.has(code)) {
        // Ended only if it is still the session that was refreshed (not one signed in meanwhile).
        if (store.get()?.refreshToken === s.refreshToken) store.set(null);
      }
      return false;
    }
    const t = (await res.json()) as Tokens;
    const now = store.get();
    // Signed out (or signed in anew) while the refresh was on its way: that state wins.
    if (!now || now.refreshToken !== s.refreshToken) return now !== null;
    store.set({
      ...now,
      token: t.token,
      expiresAt: t.expiresAt,
      refreshToken: t.refreshToken,
      refreshExpiresAt: t.refreshExpiresAt,
      sessionId: t.sessionId ?? now.sessionId,
    });
    return true;
  };

  return {
    async ensureFresh() {
      const s = store.get();
      if (!s?.refreshToken) return;
      if (Date.parse(s.expiresAt) - Date.now() > MARGIN_MS) return;
      await refresh();
    },
    async refreshAfterExpiry(usedToken) {
      const s = store.get();
      if (!s) return false;
      if (s.token !== usedToken && Date.parse(s.expiresAt) - Date.now() > MARGIN_MS) return true;
      return refresh();
    },
  };
}

/** Ends a session on the server (POST /v1/auth/sign-out); whatever the answer, the caller forgets it locally. */
export async function signOutOnServer(token: string | undefined): Promise<void> {
  if (!token) return;
  try {
    await fetch('/v1/auth/sign-out', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  } catch {
    // Offline: the session ends by itself when its refresh token expires.
  }
}
