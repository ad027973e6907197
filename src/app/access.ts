import type { RouteOptions } from 'fastify';
import { requireRole } from '../auth/guard.js';
import type { Role } from '../auth/roles.js';
import type { App } from '../platform/http/types.js';

/**
 * Who may call a route:
 * - `anonymous`: anyone, signed in or not;
 * - `signed-webhook`: an outside system's callback (the fines registry, the payments provider), by an HMAC signature
 *   the route checks itself before anything else (unsigned: 401);
 * - `simulator-only`: registered only while a local simulator stands in for a gateway (development), and open there;
 * - `metrics-token`: the `METRICS_TOKEN` bearer when that is set, anyone when it is not;
 * - `case-token`: a driver holding the signed token of one case from looking it up by plate and ruling number
 *   (src/driver/case-token.ts), which the route checks itself; without one, 401 — whatever else the caller is;
 * - a list of principals: only those roles; `citizen-owner` is a citizen calling about their own resource — another
 *   citizen's is answered 404, so its existence stays hidden.
 */
export type RouteAccess =
  | 'anonymous'
  | 'signed-webhook'
  | 'simulator-only'
  | 'metrics-token'
  | 'case-token'
  | readonly AccessPrincipal[];
export type AccessPrincipal = Role | 'citizen-owner';

const STAFF = ['inspector', 'supervisor', 'admin'] as const;
const REVIEWERS = STAFF;
const SUPERVISORS = ['supervisor', 'admin'] as const;
const ADMIN = ['admin'] as const;
const CITIZEN = ['citizen'] as const;

/**
 * Every route of the API and who may call it, keyed `METHOD /path` as Fastify registers it (a GET's HEAD twin
 * follows its GET). This is the one declaration: `installAccessTable` enforces the role lists before a request body
 * is validated, and src/app/access.test.ts calls every live route as every kind of caller against it.
 */
export const ROUTE_ACCESS: Record<string, RouteAccess> = {
  // The web application, the OpenAPI document and its UI, health.
  'GET /': 'anonymous',
  'GET /*': 'anonymous',
  'GET /docs': 'anonymous',
  'GET /docs/': 'anonymous',
  'GET /docs/*': 'anonymous',
  'GET /docs/json': 'anonymous',
  'GET /docs/yaml': 'anonymous',
  'GET /docs/static/index.html': 'anonymous',
  'GET /docs/static/swagger-initializer.js': 'anonymous',
  'GET /healthz': 'anonymous',
  'GET /readyz': 'anonymous',
  'GET /metrics': 'metrics-token',

  // Signing in.
  'POST /v1/auth/otp': 'anonymous',
  'POST /v1/auth/otp/verify': 'anonymous',
  'POST /v1/auth/login': 'anonymous',
  // The second step and two-factor set-up name the person by a sign-in challenge (or a staff bearer token).
  'POST /v1/auth/login/totp': 'anonymous',
  'POST /v1/auth/totp/enrol': 'anonymous',
  'POST /v1/auth/totp/confirm': 'anonymous',
  'DELETE /v1/me/totp': STAFF,
  'GET /v1/auth/password-links/:token': 'anonymous',
  'POST /v1/auth/password': 'anonymous',
  'POST /v1/me/password': STAFF,
  'POST /v1/auth/refresh': 'anonymous',
  'POST /v1/auth/sign-out': ['citizen', ...STAFF],
  'GET /v1/me/sessions': ['citizen', ...STAFF],
  'DELETE /v1/me/sessions/:id': ['citizen', ...STAFF],
  'GET /v1/me': ['citizen', ...STAFF],

  // Public reference data, statistics and open data.
  'GET /v1/violation-types': 'anonymous',
  'GET /v1/boundaries': 'anonymous',
  'GET /v1/areas': 'anonymous',
  'GET /v1/map/reports': 'anonymous',
  'GET /v1/open-data/reports.csv': 'anonymous',
  'GET /v1/stats/summary': 'anonymous',
  'GET /v1/stats/by-district': 'anonymous',
  'GET /v1/stats/timeseries': 'anonymous',

  // The citizen: evidence, reports, notifications, rewards.
  'POST /v1/evidence': CITIZEN,
  'POST /v1/uploads': CITIZEN,
  'GET /v1/uploads/:id': ['citizen-owner'],
  'PATCH /v1/uploads/:id': ['citizen-owner'],
  // tus 1.0 (src/evidence/tus.routes.ts): discovery is open; HEAD (where an upload stands) is GET's twin.
  'OPTIONS /v1/tus': 'anonymous',
  'OPTIONS /v1/tus/:id': 'anonymous',
  'POST /v1/tus': CITIZEN,
  'GET /v1/tus/:id': ['citizen-owner'],
  'PATCH /v1/tus/:id': ['citizen-owner'],
  'DELETE /v1/tus/:id': ['citizen-owner'],
  'POST /v1/reports': CITIZEN,
  'GET /v1/reports/:id': ['citizen-owner', ...STAFF],
  'GET /v1/reports/:id/events': ['citizen-owner', ...STAFF],
  'POST /v1/reports/:id/answer': ['citizen-owner'],
  'POST /v1/reports/:id/withdraw': ['citizen-owner'],
  'PATCH /v1/reports/:id': ['citizen-owner'],
  'GET /v1/me/reports': CITIZEN,
  'GET /v1/me/rewards': CITIZEN,
  'GET /v1/me/notification-settings': CITIZEN,
  'PUT /v1/me/notification-settings': CITIZEN,
  'GET /v1/me/events': CITIZEN,
  // Data rights (docs/privacy.md): the archive of one's data, and the account's deletion.
  'GET /v1/me/export': CITIZEN,
  'POST /v1/me/deletion-code': CITIZEN,
  'DELETE /v1/me': CITIZEN,

  // The review console.
  'GET /v1/review/queue': REVIEWERS,
  'POST /v1/review/next': REVIEWERS,
  'GET /v1/review/reasons': REVIEWERS,
  'GET /v1/review/workload': SUPERVISORS,
  'GET /v1/review/:id': REVIEWERS,
  'GET /v1/review/:id/evidence/:evidenceId': REVIEWERS,
  'GET /v1/review/:id/audit': SUPERVISORS,
  'POST /v1/review/:id/decision': REVIEWERS,
  'POST /v1/review/:id/release': REVIEWERS,
  'POST /v1/review/:id/reassign': SUPERVISORS,
  'PUT /v1/review/:id/evidence/:evidenceId/redactions': REVIEWERS,

  // Staff administration and units.
  'GET /v1/admin/staff': ADMIN,
  'POST /v1/admin/staff': ADMIN,
  'PATCH /v1/admin/staff/:id': ADMIN,
  'POST /v1/admin/staff/:id/password-link': ADMIN,
  'POST /v1/admin/staff/:id/unlock': ADMIN,
  'POST /v1/admin/staff/:id/reset-totp': ADMIN,
  'GET /v1/units': STAFF,
  'GET /v1/districts': STAFF,
  'POST /v1/admin/units': ADMIN,
  'PATCH /v1/admin/units/:id': ADMIN,
  'GET /v1/admin/penalty-points': ADMIN,
  'PUT /v1/admin/penalty-points': ADMIN,

  // Audit.
  'GET /v1/admin/audit': ADMIN,
  'GET /v1/admin/audit.csv': ADMIN,

  // Callbacks from outside: the fines registry, and the payments provider (registered only when one is configured).
  'POST /v1/integrations/gov/events': 'signed-webhook',
  'POST /v1/integrations/payments/events': 'signed-webhook',

  // The driver (no account): a case by plate and ruling number, then what its token opens.
  'POST /v1/fines/lookup': 'anonymous',
  'GET /v1/fines/case': 'case-token',
  'GET /v1/fines/case/evidence/:evidenceId': 'case-token',
  'POST /v1/fines/case/appeal/phone': 'case-token',
  'POST /v1/fines/case/attachments': 'case-token',
  'POST /v1/fines/case/appeal': 'case-token',
  'GET /v1/fines/case/appeal': 'case-token',

  // The supervisors' appeals queue.
  'GET /v1/appeals': SUPERVISORS,
  'POST /v1/appeals/next': SUPERVISORS,
  'GET /v1/appeals/:id': SUPERVISORS,
  'GET /v1/appeals/:id/attachments/:evidenceId': SUPERVISORS,
  'POST /v1/appeals/:id/decision': SUPERVISORS,
  'POST /v1/appeals/:id/release': SUPERVISORS,

  // Operators.
  'GET /v1/admin/dlq': ADMIN,
  'POST /v1/admin/dlq/:id/retry': ADMIN,
  'POST /v1/admin/dlq/:id/discard': ADMIN,
  'GET /v1/admin/cache': ADMIN,
  'GET /v1/admin/queries': ADMIN,
  'GET /v1/admin/payouts.csv': ADMIN,
  'GET /v1/ops/overview': ADMIN,
  'GET /v1/ops/alerts': SUPERVISORS,
  'GET /v1/ops/alerts/history': SUPERVISORS,

  // Local simulators' outboxes.
  'GET /v1/dev/outbox': 'simulator-only',
  'GET /v1/dev/email-outbox': 'simulator-only',
};

/** Routes registered only under some configuration: the table may list them while a process does not have them. */
export const CONDITIONAL_ROUTES: ReadonlySet<string> = new Set([
  'GET /v1/dev/outbox',
  'GET /v1/dev/email-outbox',
  'POST /v1/integrations/payments/events',
]);

/** Who calls, for the purpose of the table: `other-citizen` is a citizen asking about someone else's resource. */
export type Caller = 'anonymous' | 'owner' | 'other-citizen' | 'inspector' | 'supervisor' | 'admin';
export const CALLERS: readonly Caller[] = [
  'anonymous',
  'owner',
  'other-citizen',
  'inspector',
  'supervisor',
  'admin',
];

/** What the table promises a caller: `allow`, or the status of the refusal. */
export function expectedFor(access: RouteAccess, caller: Caller): 'allow' | 401 | 403 | 404 {
  if (access === 'anonymous' || access === 'simulator-only' || access === 'metrics-token') return 'allow';
  if (access === 'signed-webhook' || access === 'case-token') return 401;
  if (caller === 'anonymous') return 401;
  if (caller === 'owner' || caller === 'other-citizen') {
    if (access.includes('citizen')) return 'allow';
    if (!access.includes('citizen-owner')) return 403;
    return caller === 'owner' ? 'allow' : 404;
  }
  return access.includes(caller) ? 'allow' : 403;
}

/** The table's key of a route: HEAD answers as its GET does. */
export const accessKey = (method: string, url: string) => `${method === 'HEAD' ? 'GET' : method} ${url}`;

/**
 * Enforces the table's role lists on every route registered after it, before the body is parsed into a schema's
 * shape: a caller who may not use a route learns that (401/403), not what a valid request looks like. Ownership is
 * the route's own check, on a valid id. Install at the root, after authentication and before the route plugins.
 */
export function installAccessTable(app: App, table: Record<string, RouteAccess> = ROUTE_ACCESS): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const access = table[accessKey(methods[0]!, route.url)];
    if (!access || typeof access === 'string') return;
    const roles = [...new Set(access.map((p) => (p === 'citizen-owner' ? 'citizen' : p)))];
    const guard = requireRole(...roles);
    const existing = route.preValidation;
    route.preValidation = existing ? [guard, ...(Array.isArray(existing) ? existing : [existing])] : guard;
  });
}
