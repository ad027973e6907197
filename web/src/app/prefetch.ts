import { type CallSession, CITIZEN_JSON, prefetch } from '../api/client';
import { getSession } from '../api/session';
import { toTashkentLocal } from '../lib/time';
import { boundariesUrl } from '../map/boundaries';
import { filtersFrom, filtersQuery } from '../staff/inspector/claim';
import {
  getStaffSession,
  OPERATOR_ROLES,
  REVIEWER_ROLES,
  STAFF_JSON,
  type StaffRole,
} from '../staff/session';
import { preloadable } from './preload';
import { matchPath } from './router';

/** The report form's map: a chunk of its own, so the form shows while it arrives; loaded with the form. */
export const MAP_PICKER = preloadable(() => import('../map/MapPicker'));

/**
 * Each page's first reads, named once: the page makes them, and `prefetchPage` starts them (with the page's code)
 * as soon as the app's own code runs, before React has rendered anything. Measured with `npm run bench -- web`:
 * a page that fetched from its effects asked for its data ~0.5 s after the navigation began, the time it took the
 * page's chunk to arrive and render once.
 */
export const PAGES = {
  newReport: preloadable(
    async () => (await Promise.all([import('../citizen/new-report/NewReport'), MAP_PICKER.load()]))[0],
  ),
  stats: preloadable(() => import('../public/Stats')),
  inspector: preloadable(() => import('../staff/Inspector')),
  ops: preloadable(() => import('../staff/Ops')),
  staffSignIn: preloadable(() => import('../staff/StaffSignIn')),
  setPassword: preloadable(() => import('../staff/SetPassword')),
  account: preloadable(() => import('../staff/Account')),
  admin: preloadable(() => import('../staff/Admin')),
  supervisor: preloadable(() => import('../staff/Supervisor')),
  fine: preloadable(() => import('../driver/FinePage')),
  appeals: preloadable(() => import('../staff/appeals/AppealsPage')),
  myData: preloadable(() => import('../citizen/MyData')),
};

const DAY_MS = 86_400_000;

export const MY_REPORTS_PAGE = 20;
export const myReportsUrl = (cursor?: string) =>
  `/v1/me/reports?limit=${MY_REPORTS_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;

export const ACTIVE_VIOLATION_TYPES = '/v1/violation-types?active=true';
export const ALL_VIOLATION_TYPES = '/v1/violation-types';

/** The statistics page's default period: the last 30 days on Tashkent's calendar. */
export function defaultStatsRange(): { from: string; to: string } {
  const to = toTashkentLocal(new Date()).slice(0, 10);
  return { from: new Date(Date.parse(to) - 29 * DAY_MS).toISOString().slice(0, 10), to };
}
export const STATS_SUMMARY = '/v1/stats/summary';
export const statsByAreaUrl = (from: string, to: string) => `/v1/stats/by-district?from=${from}&to=${to}`;
export const statsTrendUrl = (from: string, to: string) =>
  `/v1/stats/timeseries?bucket=day&from=${from}&to=${to}`;

export const QUEUE_PAGE = 25;
export const queueUrl = (query: string, limit: number, cursor?: string) =>
  `/v1/review/queue?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}${query ? `&${query}` : ''}`;
export const areasUrl = (level: 'region' | 'district') => `/v1/areas?level=${level}`;

export const OPS_OVERVIEW = '/v1/ops/overview';
export const OPS_ALERTS = '/v1/ops/alerts';

interface Prefetch {
  path: string;
  page?: { load(): Promise<unknown> };
  /** The reads to start, as the citizen (anyone) or the signed-in staff member. */
  citizen?: (search: URLSearchParams) => string[];
  staff?: (search: URLSearchParams) => string[];
  /** Whose staff reads they are: a console opened by anyone else shows its refusal without asking the API. */
  roles?: readonly StaffRole[];
}

const ROUTES: Prefetch[] = [
  { path: '/reports', citizen: () => (getSession() ? [myReportsUrl()] : []) },
  {
    path: '/report/new',
    page: PAGES.newReport,
    citizen: () => (getSession() ? [ACTIVE_VIOLATION_TYPES, boundariesUrl('region', 'outline')] : []),
  },
  {
    path: '/stats',
    page: PAGES.stats,
    citizen: () => {
      const { from, to } = defaultStatsRange();
      return [
        STATS_SUMMARY,
        statsByAreaUrl(from, to),
        statsTrendUrl(from, to),
        boundariesUrl('region', 'outline'),
      ];
    },
  },
  {
    path: '/inspector',
    page: PAGES.inspector,
    staff: (search) => [
      queueUrl(filtersQuery(filtersFrom(search)), QUEUE_PAGE),
      ALL_VIOLATION_TYPES,
      areasUrl('region'),
      areasUrl('district'),
    ],
    roles: REVIEWER_ROLES,
  },
  { path: '/inspector/*', page: PAGES.inspector },
  { path: '/ops', page: PAGES.ops, staff: () => [OPS_OVERVIEW, OPS_ALERTS], roles: OPERATOR_ROLES },
  { path: '/ops/*', page: PAGES.ops },
  { path: '/staff/sign-in', page: PAGES.staffSignIn },
  { path: '/staff/set-password', page: PAGES.setPassword },
  { path: '/staff/account', page: PAGES.account },
  { path: '/staff/admin', page: PAGES.admin },
  { path: '/staff/supervisor', page: PAGES.supervisor },
  { path: '/staff/appeals', page: PAGES.appeals },
  { path: '/me/data', page: PAGES.myData },
];

/**
 * Starts loading the page at `path` — its code and its first reads — without waiting for React. Resolves when the
 * page's code is there (or failed to load: the page's own render then shows the failure).
 */
export function prefetchPage(path: string, search: URLSearchParams, reads = true): Promise<void> {
  const route = ROUTES.find((r) => matchPath(r.path, path));
  if (!route) return Promise.resolve();
  const code = route.page?.load().then(
    () => {},
    () => {},
  );
  if (!reads) return code ?? Promise.resolve();
  const start = (urls: string[], session: CallSession) => {
    for (const url of urls) prefetch(url, session);
  };
  if (route.citizen) start(route.citizen(search), CITIZEN_JSON);
  const staff = getStaffSession();
  if (route.staff && staff && route.roles?.includes(staff.role)) start(route.staff(search), STAFF_JSON);
  return code ?? Promise.resolve();
}
