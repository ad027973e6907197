import { useSyncExternalStore } from 'react';
import {
  ApiError,
  asApiError,
  type CallOptions,
  type CallSession,
  endsSession,
  request,
} from '../api/client';
import { makeRefresher, signOutOnServer } from '../api/refresh';
import { sessionStore, type Tokens } from '../api/session';

/**
 * A staff member's sign-in, kept apart from the citizen's (src/api/session.ts) under its own key: a staff token must
 * never open the citizen's event stream or be dropped when a citizen token is refused, and the other way round. Like
 * the citizen's, it lives in sessionStorage — it survives a reload of the tab, not the tab, and is never in a cookie
 * or in localStorage, where it would outlive the shift on a shared desk computer.
 */
export type StaffRole = 'inspector' | 'supervisor' | 'admin';

export interface StaffSession extends Tokens {
  subjectId: string;
  role: StaffRole;
  login: string;
}

const store = sessionStore<StaffSession>('jarima.staff');
export const getStaffSession = store.get;
export const setStaffSession = store.set;
const subscribe = store.subscribe;
/** The staff access token kept fresh, apart from the citizen's (its own refresh token and single flight). */
const refresher = makeRefresher(store);

/** Ends the staff session on the server (POST /v1/auth/sign-out) and here. */
export function endStaffSession(): void {
  void signOutOnServer(getStaffSession()?.token);
  setStaffSession(null);
}

export function useStaffSession(): StaffSession | null {
  return useSyncExternalStore(subscribe, getStaffSession);
}

/** Roles that review reports (GET /v1/review/* admits all three). */
export const REVIEWER_ROLES: readonly StaffRole[] = ['inspector', 'supervisor', 'admin'];
/** The operator dashboard's endpoints (/v1/ops/*, /v1/admin/*) are for admins only. */
export const OPERATOR_ROLES: readonly StaffRole[] = ['admin'];
/** Staff accounts, units and the audit log (/v1/admin/staff, /v1/admin/units, /v1/admin/audit). */
export const ADMIN_ROLES: readonly StaffRole[] = ['admin'];
/** The unit's workload, deadline breaches, reassignment, alert history. */
export const SUPERVISOR_ROLES: readonly StaffRole[] = ['supervisor', 'admin'];

function staffHeader(): Record<string, string> {
  const s = getStaffSession();
  return s ? { authorization: `Bearer ${s.token}` } : {};
}

/** A refused staff token ends the staff session (the guard then sends the page to sign-in), not the citizen's. */
function refused(err: ApiError): void {
  if (endsSession(err, Boolean(getStaffSession()?.refreshToken))) setStaffSession(null);
}

const staffCall = (accept: string): CallSession => ({
  accept,
  header: staffHeader,
  onRefused: refused,
  refresher,
});
/** How staffApi calls: for app/prefetch.ts, which starts a console's first reads early. */
export const STAFF_JSON = staffCall('application/json');

function send(path: string, opts: CallOptions, accept: string): Promise<Response> {
  return request(path, opts, accept === STAFF_JSON.accept ? STAFF_JSON : staffCall(accept));
}

/** JSON call with the staff token; `undefined` for a 204. */
export async function staffApi<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const res = await send(path, opts, 'application/json');
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/**
 * A file the API sends only with the staff token (evidence), as a Blob. `onProgress` gets the fraction received
 * when the server states the length. Reading the body ourselves is what lets a `<video>` play a file whose URL it
 * could not fetch: the route takes no token in the query string, only the Authorization header.
 */
export async function staffBlob(
  path: string,
  opts: { signal?: AbortSignal; onProgress?: (fraction: number) => void } = {},
): Promise<Blob> {
  const res = await send(path, { signal: opts.signal }, '*/*');
  const type = res.headers.get('content-type') ?? '';
  const total = Number(res.headers.get('content-length')) || 0;
  if (!opts.onProgress || !total || !res.body) return res.blob();
  const reader = res.body.getReader();
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      received += value.length;
      opts.onProgress(Math.min(1, received / total));
    }
  } catch (err) {
    throw asApiError(err);
  }
  return new Blob(parts, { type });
}

export { ApiError };
