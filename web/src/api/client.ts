import { makeRefresher, type Refresher, SESSION_OVER_CODES } from './refresh.js';
import { citizenStore, getSession, setSession } from './session.js';

/** An API error as the server states it: `{code, message, field?}`; `NETWORK` when no answer came. */
export class ApiError extends Error {
  /** What the server added to the error (e.g. `offset` for a resumable upload's mismatch). */
  details?: { offset?: number; [k: string]: unknown };

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DOMException && err.name === 'AbortError') return new ApiError(0, 'ABORTED', 'aborted');
  return new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A bearer header for the signed-in citizen, or none. */
export function authHeader(): Record<string, string> {
  const s = getSession();
  return s ? { authorization: `Bearer ${s.token}` } : {};
}

/** Reads an error body; any answer that is not ours (a proxy's HTML page) still becomes an ApiError. */
export async function errorOf(res: Response): Promise<ApiError> {
  let body: { code?: string; message?: string; field?: string; details?: ApiError['details'] } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // Not JSON.
  }
  const err = new ApiError(
    res.status,
    body.code ?? `HTTP_${res.status}`,
    body.message ?? res.statusText,
    body.field,
  );
  err.details = body.details;
  return err;
}

/**
 * Whether a refusal ends the session: the token or its session is no longer good, or the access token expired and
 * no refresh could replace it (a session stored without a refresh token).
 */
export function endsSession(err: ApiError, hasRefreshToken: boolean): boolean {
  if (err.status !== 401) return false;
  return SESSION_OVER_CODES.has(err.code) || (err.code === 'TOKEN_EXPIRED' && !hasRefreshToken);
}

/** The signed-in token was refused: the session is over, the app sends the citizen to sign in again. */
export function sessionRefused(err: ApiError): void {
  if (endsSession(err, Boolean(getSession()?.refreshToken))) setSession(null);
}

/** The citizen's access token kept fresh (POST /v1/auth/refresh). */
export const citizenRefresher: Refresher = makeRefresher(citizenStore);

/**
 * A call to the API on the same origin with a session's bearer header; a refused token is reported to that
 * session's `onRefused` (the citizen's and staff's sessions end separately).
 */
export interface CallSession {
  accept: string;
  header: () => Record<string, string>;
  onRefused: (err: ApiError) => void;
  /** Refreshes the session's access token before a call and after TOKEN_EXPIRED (then the call is made again). */
  refresher?: Refresher;
}

/** A read started before its page asked for it: by path and the session's token, taken once, for a few seconds. */
const early = new Map<string, { at: number; response: Promise<Response> }>();
const EARLY_MS = 10_000;
const earlyKey = (path: string, session: CallSession) =>
  `${session.accept} ${session.header().authorization ?? ''} ${path}`;

/**
 * Starts a GET a page is about to make, before the page's code has loaded and rendered (see app/prefetch.ts): the
 * page's own call then takes this response instead of asking again. A failure is the page's to see, as if it had
 * made the call itself.
 */
export function prefetch(path: string, session: CallSession): void {
  const key = earlyKey(path, session);
  const had = early.get(key);
  if (had && Date.now() - had.at < EARLY_MS) return;
  const response = fetch(path, { headers: { accept: session.accept, ...session.header() } });
  response.catch(() => {});
  early.set(key, { at: Date.now(), response });
}

function takeEarly(path: string, opts: CallOptions, session: CallSession): Promise<Response> | null {
  if ((opts.method ?? 'GET') !== 'GET' || opts.body !== undefined || opts.headers || opts.signal) return null;
  if (early.size === 0) return null;
  const key = earlyKey(path, session);
  const hit = early.get(key);
  if (!hit) return null;
  early.delete(key);
  return Date.now() - hit.at < EARLY_MS ? hit.response : null;
}

export async function request(path: string, opts: CallOptions, session: CallSession): Promise<Response> {
  await session.refresher?.ensureFresh();
  const attempt = async (early: boolean): Promise<{ res: Response; token: string }> => {
    const header = session.header();
    const token = header.authorization?.replace(/^Bearer /, '') ?? '';
    try {
      const res =
        (early ? await takeEarly(path, opts, session) : null) ??
        (await fetch(path, {
          method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
          headers: {
            accept: session.accept,
            ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...header,
            ...opts.headers,
          },
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: opts.signal,
        }));
      return { res, token };
    } catch (err) {
      throw asApiError(err);
    }
  };
  let { res, token } = await attempt(true);
  if (res.ok) return res;
  let err = await errorOf(res);
  // The access token lapsed: one refresh (shared with any other call that met the same) and one more try.
  if (err.status === 401 && err.code === 'TOKEN_EXPIRED' && token && session.refresher) {
    if (await session.refresher.refreshAfterExpiry(token)) {
      ({ res } = await attempt(false));
      if (res.ok) return res;
      err = await errorOf(res);
    }
  }
  session.onRefused(err);
  throw err;
}

/** JSON call to the API on the same origin, as the signed-in citizen. */
export const CITIZEN_JSON: CallSession = {
  accept: 'application/json',
  header: authHeader,
  onRefused: sessionRefused,
  refresher: citizenRefresher,
};

export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const res = await request(path, opts, CITIZEN_JSON);
  return (res.status === 204 ? undefined : await res.json()) as T;
}
